"""Who is calling: the bearer token's user or the integration key's holder.

Routers are authenticated by default: ``authenticated_router`` resolves the
caller for every route it holds (401 ``not_authenticated`` without valid
credentials), and a public endpoint lives on a ``public_router``, an explicit
marker. ``direkte.api.app`` refuses to start with a route that is neither.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from direkte import access
from direkte.audit.service import Actor
from direkte.auth import service
from direkte.errors import NotAuthenticated
from direkte.kit.deps import ClockDep, SessionDep, SettingsDep
from direkte.network.models import User

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)

Caller = User | Actor


def current_caller(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
    key: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    """The user of a bearer token, else the holder of an integration key.

    Raises NotAuthenticated (no credentials, or bad ones).
    """
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


async def public() -> None:
    """The marker of an endpoint anyone may call (no credentials needed)."""


def authenticated_router(**kwargs: Any) -> APIRouter:
    """A router whose every route needs a caller (bearer token or integration key)."""
    dependencies = [Depends(current_caller), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, **kwargs)


def public_router(**kwargs: Any) -> APIRouter:
    """A router whose routes anyone may call: the explicit exception."""
    dependencies = [Depends(public), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, **kwargs)
