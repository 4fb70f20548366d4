"""Where a request's synchronous code runs (direkte.kit.offload): in a greenlet on the
event loop on PostgreSQL, whose round trips then yield to other requests; in the
thread pool on SQLite. Apps on real engines, as ``direkte serve`` builds them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from direkte.api.app import create_app
from direkte.config import Settings
from direkte.db import on_event_loop
from direkte.kit.deps import SessionDep
from tests.conftest import fresh_database


def _on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def app(backend: str, tmp_path: Path) -> Iterator[FastAPI]:
    with fresh_database(backend, tmp_path) as url:
        app = create_app(
            Settings(
                database_url=url,
                data_dir=tmp_path,
                secret_key="offload-secret-0123456789-abcdefghijklmn",
            )
        )

        @app.get("/test-only/where")
        def where(session: SessionDep) -> dict[str, object]:
            session.execute(sa.text("SELECT 1"))
            session.commit()
            return {"on_loop": _on_the_loop(), "thread": threading.get_ident()}

        @app.get("/test-only/sleep/{seconds}")
        def sleep(seconds: float, session: SessionDep) -> dict[str, float]:
            session.execute(sa.text("SELECT pg_sleep(:s)"), {"s": seconds})
            session.commit()
            return {"done": time.monotonic()}

        yield app


def test_sync_routes_run_on_the_loop_on_postgresql_and_in_threads_on_sqlite(
    app: FastAPI, backend: str
) -> None:
    bind = app.state.sessionmaker.kw["bind"]
    assert on_event_loop(bind) is (backend == "postgresql")
    with TestClient(app) as client:
        answer = client.get("/test-only/where")
        assert answer.status_code == 200
        assert answer.json()["on_loop"] is (backend == "postgresql")
        # the app's own routes too: the caller's dependency and the use case
        assert client.get("/api/v1/me/visits").json()["error"]["code"] == "not_authenticated"


def test_a_slow_statement_does_not_hold_up_the_other_requests(app: FastAPI, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("pg_sleep is PostgreSQL's; SQLite's requests run in threads")

    async def both() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            slow, fast = await asyncio.gather(
                client.get("/test-only/sleep/0.8"), client.get("/test-only/sleep/0")
            )
        assert slow.status_code == fast.status_code == 200
        return slow.json()["done"], fast.json()["done"]

    slow_done, fast_done = asyncio.run(both())
    # one event loop, one thread: the fast request was answered while the slow one's
    # statement ran (a blocking driver would have served them one after the other)
    assert fast_done < slow_done - 0.5
