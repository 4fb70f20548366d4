"""Who is calling: the bearer token's user or the integration key's holder.

Routers are authenticated by default: ``authenticated_router`` resolves the
caller for every route it holds (401 ``not_authenticated`` without valid
credentials), and a public endpoint lives on a ``public_router``, an explicit
marker. ``direkte.api.app`` refuses to start with a route that is neither.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.service import Actor
from direkte.auth import service
from direkte.auth.limits import Limits
from direkte.clock import Clock
from direkte.config import Settings
from direkte.errors import NotAuthenticated
from direkte.kit.deps import ClockDep, SessionDep, SettingsDep
from direkte.kit.offload import OffLoopRoute, blocking
from direkte.network.models import User

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)

Caller = User | Actor


def _limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


async def current_caller(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
    key: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    """The user of a bearer token, else the holder of an integration key.

    Counts the request against the caller's rate first (token, key, else address).
    Raises RateLimited, NotAuthenticated (no credentials, or bad ones).
    """
    return await blocking(
        _caller, _limits(request), session, clock, settings, token, key, _address(request)
    )


def _caller(
    limits: Limits,
    session: Session,
    clock: Clock,
    settings: Settings,
    token: str | None,
    key: str | None,
    address: str,
) -> Caller:
    limits.hit_caller(token=token, key=key, address=address)
    if token:
        return service.authenticate_token(session, clock, token=token, secret=settings.signing_key)
    if key:
        holder = service.authenticate_api_key(session, key=key)
        return Actor("api_key", holder.id, holder.name)
    raise NotAuthenticated("log in first: Authorization: Bearer <token>, or X-API-Key")


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def current_user(caller: CurrentCaller) -> User:
    """The logged-in user (customer or staff). Raises NotAuthenticated for a key."""
    if not isinstance(caller, User):
        raise NotAuthenticated("log in first: Authorization: Bearer <token>")
    return caller


async def current_ops(user: Annotated[User, Depends(current_user)]) -> User:
    """The logged-in ops user. Raises OpsOnly."""
    access.require_ops(user)
    return user


async def integration_actor(caller: CurrentCaller) -> Actor:
    """The integration key's holder. Raises NotAuthenticated for a user's token."""
    if not isinstance(caller, Actor):
        raise NotAuthenticated("send the integration key in X-API-Key")
    return caller


async def bearer_token(token: Annotated[str | None, Depends(_bearer)]) -> str:
    """The bearer token itself (for log-out). Raises NotAuthenticated without one."""
    if not token:
        raise NotAuthenticated("log in first: Authorization: Bearer <token>")
    return token


CurrentUser = Annotated[User, Depends(current_user)]
BearerToken = Annotated[str, Depends(bearer_token)]
OpsUser = Annotated[User, Depends(current_ops)]
IntegrationActor = Annotated[Actor, Depends(integration_actor)]


# The web app's log-in: a cookie that carries a bearer token issued by the same log-in,
# so that logging out, a password change and disabling the user end it as they end a
# token (the revoked-token table and the user's token epoch).
SESSION_COOKIE = "direkte_session"


def session_token(request: Request) -> str | None:
    """The web session's bearer token, if the request carries one."""
    return request.cookies.get(SESSION_COOKIE) or None


async def current_session_user(
    request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> User:
    """The user of the web session cookie (the web app's pages).

    Counts the request against the session's rate first, as a bearer token's.
    Raises RateLimited, NotAuthenticated (no cookie, or a token that is no longer good).
    """
    return await blocking(
        _session_user,
        _limits(request),
        session,
        clock,
        settings,
        session_token(request),
        _address(request),
    )


def _session_user(
    limits: Limits,
    session: Session,
    clock: Clock,
    settings: Settings,
    token: str | None,
    address: str,
) -> User:
    limits.hit_caller(token=token, key=None, address=address)
    if not token:
        raise NotAuthenticated("log in first")
    return service.authenticate_token(session, clock, token=token, secret=settings.signing_key)


SessionUser = Annotated[User, Depends(current_session_user)]


def session_router(**kwargs: Any) -> APIRouter:
    """A router whose every route needs a logged-in web session (the cookie)."""
    dependencies = [Depends(current_session_user), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, route_class=OffLoopRoute, **kwargs)


async def public(request: Request) -> None:
    """The marker of an endpoint anyone may call (no credentials needed).

    Counts the request against the client address's rate. Raises RateLimited.
    """
    await blocking(_limits(request).hit_caller, token=None, key=None, address=_address(request))


async def login_limits(request: Request) -> Limits:
    """The log-in lock (and the other limits)."""
    return _limits(request)


LoginLimits = Annotated[Limits, Depends(login_limits)]


def authenticated_router(**kwargs: Any) -> APIRouter:
    """A router whose every route needs a caller (bearer token or integration key)."""
    dependencies = [Depends(current_caller), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, route_class=OffLoopRoute, **kwargs)


def public_router(**kwargs: Any) -> APIRouter:
    """A router whose routes anyone may call: the explicit exception."""
    dependencies = [Depends(public), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, route_class=OffLoopRoute, **kwargs)
