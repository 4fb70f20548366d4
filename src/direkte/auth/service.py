"""Passwords, access tokens and integration API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.audit.service import Actor, record_event
from direkte.auth.models import ApiKey
from direkte.clock import Clock
from direkte.errors import Conflict, NotAuthenticated, NotFound
from direkte.network.models import User
from direkte.network.passwords import DUMMY_HASH, verify_password


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class InvalidToken(NotAuthenticated):
    code = "invalid_token"


class ApiKeyExists(Conflict):
    code = "api_key_exists"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


def issue_token(
    session: Session, clock: Clock, *, email: str, password: str, secret: str, ttl_seconds: int
) -> IssuedToken:
    """Check an e-mail and password and sign an expiring bearer token.

    Raises InvalidCredentials for an unknown e-mail, a wrong password or an inactive user.
    """
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        verify_password(DUMMY_HASH, password)
        raise InvalidCredentials("wrong e-mail or password")
    if not verify_password(user.password_hash, password):
        raise InvalidCredentials("wrong e-mail or password")
    now = clock.now()
    claims = {
        "sub": str(user.id),
        "role": user.role.value,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm="HS256"), ttl_seconds)


# Built once: Session.get builds its statement anew each time, and every request
# with a bearer token runs this one (the session is new, so the identity map that
# Session.get would look in first is empty).
_USER = sa.select(User).where(User.id == sa.bindparam("user_id"))


def authenticate_token(session: Session, clock: Clock, *, token: str, secret: str) -> User:
    """Return the active user a bearer token names. Raises InvalidToken."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            # Times are checked against our clock below, never PyJWT's wall clock.
            options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
        )
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        raise InvalidToken("invalid access token") from None
    if claims["exp"] <= clock.now().timestamp():
        raise InvalidToken("the access token has expired")
    user = session.scalars(_USER, {"user_id": user_id}).first()
    if user is None or not user.active:
        raise InvalidToken("invalid access token")
    return user


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, clock: Clock, *, name: str) -> str:
    """Create a named integration key and return it; only its hash is kept.

    Raises ApiKeyExists when the name is taken.
    """
    if session.scalar(sa.select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise ApiKeyExists(f"an API key named {name!r} exists")
    key = "dk_" + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, prefix=key[:10], key_hash=_digest(key), created_at=clock.now())
    session.add(api_key)
    session.flush()
    record_event(
        session,
        at=clock.now(),
        actor=Actor.system("cli"),
        action="api_key.created",
        subject_kind="api_key",
        subject_id=api_key.id,
        data={"name": name},
    )
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(sa.select(ApiKey).order_by(ApiKey.name)))


def revoke_api_key(session: Session, clock: Clock, *, name: str) -> ApiKey:
    """Revoke a key by name (idempotent). Raises NotFound."""
    api_key = session.scalar(sa.select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"no API key named {name!r}")
    if api_key.revoked_at is None:
        api_key.revoked_at = clock.now()
        record_event(
            session,
            at=clock.now(),
            actor=Actor.system("cli"),
            action="api_key.revoked",
            subject_kind="api_key",
            subject_id=api_key.id,
            data={"name": name},
        )
    return api_key


def authenticate_api_key(session: Session, *, key: str) -> KeyHolder:
    """The live key's id and name (one cached Core statement). Raises NotAuthenticated."""
    found = session.connection().execute(_LIVE_KEY, {"key_hash": _digest(key)}).first()
    if found is None or found.revoked_at is not None:
        raise NotAuthenticated("invalid or revoked API key")
    return KeyHolder(found.id, found.name)


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """The integration an API key belongs to."""

    id: int
    name: str


_LIVE_KEY = sa.select(ApiKey.id, ApiKey.name, ApiKey.revoked_at).where(
    ApiKey.key_hash == sa.bindparam("key_hash")
)
