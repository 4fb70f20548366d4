"""Where a request's blocking work runs: in a greenlet on the event loop (PostgreSQL),
or in the thread pool (SQLite).

Every use case is plain synchronous code on a SQLAlchemy ``Session``. FastAPI runs a
synchronous route or dependency in its thread pool, and each of its database round
trips then hands the GIL between the pool's thread and the event loop; on the bare
insert those hand-offs are a third of the request's CPU (docs/performance.md, "The ORM
in a greenlet on the event loop"). On PostgreSQL the app's engine instead runs
psycopg's async connections under SQLAlchemy's sync API (``db.make_engine(...,
on_event_loop=True)``): the same synchronous code runs in a greenlet on the event loop
(``greenlet_spawn``, what ``AsyncSession.run_sync`` does), and each round trip yields
to the loop as an ``await`` would. Nothing in the use cases changes.

SQLite stays in the thread pool: its one-writer lock (``db._Writer``) is a thread lock,
which a greenlet on the event loop must never wait on (the holder could be another
greenlet on the same thread, waiting for the loop).

How: routers use ``OffLoopRoute``, which gives FastAPI an ``async def`` in place of a
synchronous endpoint, and the few synchronous dependencies that do I/O are
``async def`` functions that call ``blocking``. Both ask the request's runner, set by
``RunnerMiddleware`` from the app's engine.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from fastapi.routing import APIRoute
from sqlalchemy.util import greenlet_spawn
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

P = ParamSpec("P")
T = TypeVar("T")

Runner = Callable[..., Awaitable[Any]]


# The runners are the libraries' own: starlette's thread pool hop (FastAPI's), and
# SQLAlchemy's ``greenlet_spawn``, whose database round trips on an engine of
# ``db.make_engine(..., on_event_loop=True)`` yield to the loop (on a plain engine, the
# tests' shared connection, they block the loop, and are correct).
_RUNNER: ContextVar[Runner] = ContextVar("direkte_runner", default=run_in_threadpool)


def runner_for(dialect_name: str) -> Runner:
    """The runner of an app on this database."""
    return greenlet_spawn if dialect_name == "postgresql" else run_in_threadpool


async def blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run synchronous code that may do database I/O, as this request's app runs it."""
    result: T = await _RUNNER.get()(fn, *args, **kwargs)
    return result


def off_loop(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An ``async def`` that runs synchronous ``fn`` by ``blocking``; a coroutine
    function is returned as it is. FastAPI reads the parameters and the answer's type
    through ``__wrapped__`` (``functools.wraps``)."""
    if inspect.iscoroutinefunction(fn):
        return fn

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await blocking(fn, *args, **kwargs)

    return run


class OffLoopRoute(APIRoute):
    """An API route whose synchronous endpoint runs by the request's runner."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, off_loop(endpoint), **kwargs)


class RunnerMiddleware:
    """Set the request's runner: the app's, by its database."""

    def __init__(self, app: ASGIApp, runner: Runner) -> None:
        self.app = app
        self.runner = runner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _RUNNER.set(self.runner)
        try:
            await self.app(scope, receive, send)
        finally:
            _RUNNER.reset(token)
