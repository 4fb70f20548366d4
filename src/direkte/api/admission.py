"""Admission: at most as many requests in the app at once as the pool has connections."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send


class AdmissionMiddleware:
    """Let at most ``limit`` HTTP requests into the app at once; the rest wait in line.

    A request holds one pooled connection from its first query (the caller's
    log-in check, a dependency) to its end, and its dependencies and route run in
    separate steps (greenlets on the event loop on PostgreSQL, hops through the
    thread pool on SQLite: ``kit.offload``). Without a bound, more requests than
    connections would start at once: the pool's overflow would open and close a
    connection per request (a PostgreSQL back-end start each time, and no prepared
    statements), and beyond the overflow, requests would wait on the pool while
    requests holding connections wait for their next step. With ``limit`` set to
    the pool size, neither happens; waiting requests cost an entry in a queue.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # one loop per server process; tests make several
            self._slots, self._loop = asyncio.Semaphore(self.limit), loop
        async with self._slots:
            await self.app(scope, receive, send)
