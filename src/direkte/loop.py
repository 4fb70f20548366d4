"""CPU-heavy work inside a request's code, kept from stalling the event loop.

On PostgreSQL a request's synchronous code runs in a greenlet on the event loop
(``kit.offload``): it gives the loop back only when it awaits a database round trip.
Work that computes for long without one would stall every other request of the
process meanwhile, so it goes to a worker thread (``in_worker_thread``: argon2, the
evaluation's numpy, both of which release the GIL), or gives the loop a turn now and
then (``let_others_run``: the backtest's loop over its rows). Outside such a greenlet
(SQLite's requests, already in the thread pool; commands; jobs) both are plain calls.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

P = ParamSpec("P")
T = TypeVar("T")


def in_worker_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, in a worker thread when called on the event loop."""
    if not in_greenlet():
        return fn(*args, **kwargs)
    result: T = await_only(anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs)))
    return result


def let_others_run() -> None:
    """Give the event loop a turn, when called on it (about 10 µs); else nothing."""
    if in_greenlet():
        await_only(asyncio.sleep(0))
