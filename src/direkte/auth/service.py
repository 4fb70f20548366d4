"""Passwords, access tokens and integration API keys."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access, direct
from direkte.audit.service import Actor, record_event
from direkte.auth.models import ApiKey, RevokedToken
from direkte.clock import Clock
from direkte.errors import Conflict, NotAuthenticated, NotFound, RuleViolation
from direkte.network.models import User
from direkte.network.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class InvalidToken(NotAuthenticated):
    code = "invalid_token"


class ApiKeyExists(Conflict):
    code = "api_key_exists"


class WrongCurrentPassword(RuleViolation):
    code = "wrong_current_password"


class UserNotFound(NotFound):
    code = "user_not_found"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


def issue_token(
    session: Session, clock: Clock, *, email: str, password: str, secret: str, ttl_seconds: int
) -> IssuedToken:
    """Check an e-mail and password and sign an expiring bearer token.

    A hash made with older argon2 parameters is redone (the caller commits).
    Raises InvalidCredentials for an unknown e-mail, a wrong password or an inactive user.
    """
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        verify_password(DUMMY_HASH, password)
        raise InvalidCredentials("wrong e-mail or password")
    if not verify_password(user.password_hash, password):
        raise InvalidCredentials("wrong e-mail or password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = clock.now()
    claims = {
        "sub": str(user.id),
        "role": user.role.value,
        "jti": secrets.token_hex(16),
        "ep": user.token_epoch,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm="HS256"), ttl_seconds)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    jti: str
    epoch: int
    expires: int


def _claims(clock: Clock, token: str, secret: str) -> TokenClaims:
    found = _signed_claims(token, secret)
    if found.expires <= clock.now().timestamp():
        raise InvalidToken("the access token has expired")
    return found


@functools.lru_cache(maxsize=4096)
def _signed_claims(token: str, secret: str) -> TokenClaims:
    """A token's claims once its signature is checked, remembered per token and key: a
    client sends the same token with every request, and decoding it (base64, JSON,
    HMAC) was a tenth of a small request's CPU. Only tokens that pass are remembered
    (an exception is not cached), so made-up tokens cannot fill the memo; expiry,
    log-out and the user's epoch are still checked on every request."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            # Times are checked against our clock in _claims, never PyJWT's wall clock.
            options={
                "require": ["exp", "sub", "jti", "ep"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        return TokenClaims(
            int(claims["sub"]), str(claims["jti"]), int(claims["ep"]), int(claims["exp"])
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidToken("invalid access token") from None


# Built once: Session.get builds its statement anew each time, and every request
# with a bearer token runs this one (the session is new, so the identity map that
# Session.get would look in first is empty). The user's row and whether the token
# was logged out come back together: one round trip, two primary-key look-ups.
_REVOKED = sa.exists().where(RevokedToken.jti == sa.bindparam("jti")).correlate(None)
_USER = sa.select(User, _REVOKED.label("revoked")).where(User.id == sa.bindparam("user_id"))
# On PostgreSQL the same row read straight through psycopg and made the ORM's object
# (direkte.direct: about 100 us of CPU less on every request with a token).
_USER_COLUMNS = tuple(sa.inspect(User).columns)
_USER_NAMES = tuple(sa.inspect(User).get_property_by_column(c).key for c in _USER_COLUMNS)
_USER_DIRECT = direct.Select(
    sa.select(*_USER_COLUMNS, _REVOKED.label("revoked")).where(User.id == sa.bindparam("user_id"))
)


def _user_and_revoked(session: Session, user_id: int, jti: str) -> tuple[User, bool] | None:
    params = {"user_id": user_id, "jti": jti}
    if direct.supported(session):
        # Not prepared at once: most reads end in ROLLBACK, which deallocates them.
        rows = _USER_DIRECT.rows(session, params, prepare=None)
        if not rows:
            return None
        *values, revoked = rows[0]
        return direct.attach(session, User, _USER_NAMES, values), bool(revoked)
    row = session.execute(_USER, params).first()
    return None if row is None else (row[0], bool(row[1]))


def authenticate_token(session: Session, clock: Clock, *, token: str, secret: str) -> User:
    """Return the active user a live bearer token names.

    Raises InvalidToken (bad, expired, logged out, or older than the user's last
    password change or disabling).
    """
    claims = _claims(clock, token, secret)
    row = _user_and_revoked(session, claims.user_id, claims.jti)
    if row is None:
        raise InvalidToken("invalid access token")
    user, revoked = row
    if revoked or not user.active or user.token_epoch != claims.epoch:
        raise InvalidToken("invalid access token")
    return user


def revoke_token(session: Session, clock: Clock, *, token: str, secret: str) -> None:
    """Log a bearer token out: refused from now on until it would have expired.

    Raises InvalidToken (as authenticate_token).
    """
    claims = _claims(clock, token, secret)
    expires_at = datetime.fromtimestamp(claims.expires, UTC)
    if session.get(RevokedToken, claims.jti) is None:
        session.add(RevokedToken(jti=claims.jti, expires_at=expires_at))
        session.flush()


def change_password(session: Session, clock: Clock, *, user: User, current: str, new: str) -> None:
    """Set a new password and end every token issued before it.

    Raises WrongCurrentPassword.
    """
    if not verify_password(user.password_hash, current):
        raise WrongCurrentPassword(
            "the current password is wrong",
            [{"field": "current", "message": "the current password is wrong"}],
        )
    user.password_hash = hash_password(new)
    user.token_epoch += 1
    user.updated_at = clock.now()
    record_event(
        session,
        at=clock.now(),
        actor=Actor.user(user),
        action="user.password_changed",
        subject_kind="user",
        subject_id=user.id,
        data={},
    )
    session.flush()


def disable_user(session: Session, clock: Clock, *, viewer: User, user_id: int) -> User:
    """Disable a user's log-in and end every token they hold, as ops (idempotent).

    Raises OpsOnly, UserNotFound.
    """
    access.require_ops(viewer)
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound("no such user")
    return _disable(session, clock, user, Actor.user(viewer))


def disable_user_by_email(session: Session, clock: Clock, *, email: str) -> User:
    """Disable a user's log-in from the command line (idempotent). Raises UserNotFound."""
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise UserNotFound(f"no user with the e-mail {email!r}")
    return _disable(session, clock, user, Actor.system("cli"))


def _disable(session: Session, clock: Clock, user: User, actor: Actor) -> User:
    if user.active:
        user.active = False
        user.token_epoch += 1
        user.updated_at = clock.now()
        record_event(
            session,
            at=clock.now(),
            actor=actor,
            action="user.disabled",
            subject_kind="user",
            subject_id=user.id,
            data={},
        )
        session.flush()
    return user


def purge_revoked_tokens(session: Session, *, now: datetime) -> int:
    """Forget logged-out tokens that have expired anyway."""
    result = session.execute(sa.delete(RevokedToken).where(RevokedToken.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


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
