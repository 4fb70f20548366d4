"""The layers under the bare insert, each as an endpoint, for ``bench/floor_bench.py`` only.

``raw`` is a plain ASGI app (no framework): the server's own cost of a request.
``app`` is the benchmark app (``bench.bench_app``: direkte's app, its middleware and
the bare endpoints) with two more POST endpoints that read and validate the same
body as ``/bench/insert`` and touch no database: ``/floor/ping`` (``async def``, on
the event loop) and ``/floor/sync-ping`` (``def``, in the thread pool, as every
direkte route that uses the database); and two inserts of the bare insert's row
without SQLAlchemy and without the thread pool, to price the request models the
bare insert could move to: ``/floor/async-insert`` (``async def``, psycopg's async
connections, five of them) and ``/floor/blocking-insert`` (``async def`` that blocks
the event loop on one plain psycopg connection, a worker serving one request at a
time, as Django on gunicorn's sync workers). Each is BEGIN, INSERT, COMMIT, as the
bare insert. ``/floor/greenlet-insert`` runs the bare insert's own ORM code (a sync
session) on the event loop in a greenlet, on SQLAlchemy's async engine over psycopg's
async connections: what ``AsyncSession.run_sync`` does, the way to drop the thread
pool without rewriting the data layer.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

import psycopg
from bench.bench_app import BenchRow, RowIn, RowOut, app
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn
from starlette.types import Receive, Scope, Send

from direkte.api.routing import fence_routes


@app.post("/floor/ping", status_code=201)
async def floor_ping(body: RowIn) -> dict[str, str]:
    return {"note": body.note}


def floor_sync_ping(body: RowIn) -> dict[str, str]:
    return {"note": body.note}


# FastAPI's own route class: in the thread pool (the app's routes run off the loop by
# direkte.kit.offload, a greenlet on PostgreSQL).
app.router.add_api_route(
    "/floor/sync-ping",
    floor_sync_ping,
    methods=["POST"],
    status_code=201,
    route_class_override=APIRoute,
)


_INSERT = "INSERT INTO bench_rows (note, created_at) VALUES (%s, %s) RETURNING id"
_CONNECTIONS = 5  # as the bare insert's pool


def _url() -> str:
    return os.environ["DIREKTE_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")


class _AsyncPool:
    """Five async connections, opened on first use (a benchmark's, not a general pool)."""

    def __init__(self) -> None:
        self._idle: asyncio.Queue[psycopg.AsyncConnection] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> psycopg.AsyncConnection:
        async with self._lock:
            if self._idle is None:
                idle: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()
                for _ in range(_CONNECTIONS):
                    idle.put_nowait(await psycopg.AsyncConnection.connect(_url()))
                self._idle = idle
        return await self._idle.get()

    def put(self, connection: psycopg.AsyncConnection) -> None:
        assert self._idle is not None
        self._idle.put_nowait(connection)


_async_pool = _AsyncPool()
_blocking: list[psycopg.Connection] = []


@app.post("/floor/async-insert", status_code=201)
async def floor_async_insert(body: RowIn) -> RowOut:
    at = datetime.now(UTC)
    connection = await _async_pool.get()
    try:
        async with connection.transaction():
            row = await (await connection.execute(_INSERT, (body.note, at))).fetchone()
    finally:
        _async_pool.put(connection)
    assert row is not None
    return RowOut(id=row[0], note=body.note, created_at=at)


@app.post("/floor/blocking-insert", status_code=201)
async def floor_blocking_insert(body: RowIn) -> RowOut:
    at = datetime.now(UTC)
    if not _blocking:
        _blocking.append(psycopg.connect(_url()))
    connection = _blocking[0]
    with connection.transaction():
        row = connection.execute(_INSERT, (body.note, at)).fetchone()
    assert row is not None
    return RowOut(id=row[0], note=body.note, created_at=at)


_greenlet_engine: list[Any] = []


def _greenlet_insert(body: RowIn) -> RowOut:
    """The bare insert's body: a sync ORM session as the app's sessionmaker makes it
    (``expire_on_commit=False``: the row's fields are read after COMMIT without a
    refresh), run in a greenlet. The engine has psycopg's async connections and none of
    ``make_engine``'s extras (its BEGIN-as-ping at check-out, orjson, hidden
    parameters): the same three round trips, BEGIN, INSERT, COMMIT."""
    with Session(_greenlet_engine[0].sync_engine, expire_on_commit=False) as session:
        row = BenchRow(note=body.note, created_at=datetime.now(UTC))
        session.add(row)
        session.commit()
        return RowOut(id=row.id, note=row.note, created_at=row.created_at)


@app.post("/floor/greenlet-insert", status_code=201)
async def floor_greenlet_insert(body: RowIn) -> RowOut:
    if not _greenlet_engine:
        _greenlet_engine.append(
            create_async_engine(os.environ["DIREKTE_DATABASE_URL"], pool_size=5, max_overflow=5)
        )
    return await greenlet_spawn(_greenlet_insert, body)


fence_routes(app)


async def raw(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body and answer 201 with a small JSON body; nothing else."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json")]
    status = 201 if scope["method"] == "POST" else 200  # 200: the readiness check's GET
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"note":"bench insert"}'})
