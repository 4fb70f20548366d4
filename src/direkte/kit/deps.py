"""Dependencies every route shares: the session, the clock and the settings.

The caller (bearer token or integration key) is resolved by ``direkte.auth.deps``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from direkte.clock import Clock
from direkte.config import Settings
from direkte.kit.offload import blocking


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; the route commits, anything else rolls back.

    Async, so that opening and closing it costs no thread-pool hop (two per request,
    about 0.1 ms of CPU each): making a Session does no I/O, and neither does closing
    one whose transaction the route committed. One still in a transaction (a read
    that never committed, an error) is closed by ``offload.blocking`` (a greenlet on
    PostgreSQL, the thread pool on SQLite), since its rollback is a round trip that
    must not block the event loop.
    """
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):  # a cancelled request still rolls back
                await blocking(session.close)
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
