"""Dependencies every route shares: the session, the clock, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from direkte.audit.service import Actor
from direkte.auth import service as auth_service
from direkte.clock import Clock
from direkte.config import Settings
from direkte.errors import Forbidden, NotAuthenticated
from direkte.network.models import Role, User

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; the route commits, anything else rolls back.

    Async, so that opening and closing it costs no thread-pool hop (two per request,
    about 0.1 ms of CPU each): making a Session does no I/O, and neither does closing
    one whose transaction the route committed. One still in a transaction (a read
    that never committed, an error) is closed in the thread pool, since its rollback
    is a round trip that must not block the event loop.
    """
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


# Dependencies that do no I/O are async: FastAPI runs sync ones in the thread pool,
# and every hop there costs more than these functions do.
async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_user(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> User:
    if not token:
        raise NotAuthenticated("log in first: Authorization: Bearer <token>")
    return auth_service.authenticate_token(session, clock, token=token, secret=settings.signing_key)


CurrentUser = Annotated[User, Depends(current_user)]


async def current_staff(user: CurrentUser) -> User:
    if user.role == Role.customer:
        raise Forbidden("staff only")
    return user


async def current_ops(user: CurrentUser) -> User:
    if user.role != Role.ops_admin:
        raise Forbidden("ops_admin only")
    return user


StaffUser = Annotated[User, Depends(current_staff)]
OpsUser = Annotated[User, Depends(current_ops)]


def integration_actor(session: SessionDep, key: Annotated[str | None, Depends(_api_key)]) -> Actor:
    if not key:
        raise NotAuthenticated("send the integration key in X-API-Key")
    api_key = auth_service.authenticate_api_key(session, key=key)
    return Actor("api_key", api_key.id, api_key.name)


IntegrationActor = Annotated[Actor, Depends(integration_actor)]
