"""Admission: no more requests in the app at once than the pool has connections."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from direkte.api.admission import AdmissionMiddleware
from direkte.api.app import create_app
from direkte.config import Settings


class Tracker:
    """An ASGI app that answers after a pause and counts the requests inside it."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        await asyncio.sleep(0.02)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _burst(app: AdmissionMiddleware, n: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get("/") for _ in range(n)))
    return [r.status_code for r in responses]


def test_requests_beyond_the_limit_wait_and_are_all_answered() -> None:
    tracker = Tracker()
    statuses = asyncio.run(_burst(AdmissionMiddleware(tracker, limit=3), 12))
    assert statuses == [200] * 12
    assert tracker.most == 3


def test_the_limit_is_the_pool_size() -> None:
    app = create_app(Settings(database_url="sqlite://", db_pool_size=7))
    admission = [m for m in app.user_middleware if m.cls is AdmissionMiddleware]
    assert [m.kwargs["limit"] for m in admission] == [7]
