"""Where a request's synchronous code runs (direkte.kit.offload): in a greenlet on the
event loop on PostgreSQL, whose round trips then yield to other requests; in the
thread pool on SQLite. Apps on real engines, as ``direkte serve`` builds them."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.api.app import create_app
from direkte.api.routing import api_routes, dependants
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.db import make_engine, on_event_loop
from direkte.kit.deps import SessionDep
from tests.conftest import fresh_database
from tests.factories import login, make_api_key, make_network, push_visit
from tests.loops import run_in_own_loop


def _on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def app(database: str, tmp_path: Path, clock: FixedClock) -> Iterator[FastAPI]:
    app = create_app(
        Settings(
            database_url=database,
            data_dir=tmp_path,
            secret_key="offload-secret-0123456789-abcdefghijklmn",
        ),
        clock=clock,
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

    with TestClient(app):  # its lifespan disposes the engines at the end
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

    slow_done, fast_done = run_in_own_loop(both)
    # one event loop, one thread: the fast request was answered while the slow one's
    # statement ran (a blocking driver would have served them one after the other)
    assert fast_done < slow_done - 0.5


def test_the_escalation_flow_on_the_apps_own_engine(
    app: FastAPI, database: str, clock: FixedClock
) -> None:
    # The API suite runs on a shared plain connection; this is the engine `direkte
    # serve` builds (on PostgreSQL: async connections, code in greenlets).
    plain = make_engine(database)
    with Session(plain) as session:
        make_network(session, clock)
        key = make_api_key(session, clock)
    plain.dispose()
    client = TestClient(app)
    visit_id = push_visit(client, key)
    diagnosis = client.post(
        "/api/v1/integration/visits/RO-1/diagnoses",
        json={"findings": "Pads worn", "codes": ["C1101"], "safety_related": True},
        headers={"X-API-Key": key},
    )
    assert diagnosis.status_code == 201, diagnosis.text
    customer = login(client, "ola@example.no")  # argon2 in a worker thread
    created = client.post(
        f"/api/v1/visits/{visit_id}/escalations",
        json={
            "category": "diagnosis",
            "subject_id": diagnosis.json()["id"],
            "reason": "The pads were changed last month",
        },
        headers={**customer, "Idempotency-Key": "k1"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["assignee"]["role"] == "local_manager"
    manager = login(client, "kari@example.no")
    inbox = client.get("/api/v1/inbox", headers=manager)  # PostgreSQL: prepared, async
    assert inbox.status_code == 200, inbox.text
    assert [item["id"] for item in inbox.json()["items"]] == [created.json()["id"]]
    acknowledged = client.post(
        f"/api/v1/escalations/{created.json()['id']}/acknowledge", headers=manager
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert client.get("/app/login").status_code == 200  # a page


def test_every_route_and_dependency_that_may_do_io_runs_off_the_thread_pool(
    app: FastAPI,
) -> None:
    # A `def` route or dependency would run in FastAPI's thread pool, where the app's
    # PostgreSQL engine raises MissingGreenlet: every route's endpoint is a coroutine
    # (OffLoopRoute), and the only synchronous dependencies are these, which do no I/O.
    no_io = {"OAuth2PasswordRequestForm"}
    synchronous: set[str] = set()
    routes = list(api_routes(app.routes))
    assert len(routes) > 80
    for route in routes:
        assert inspect.iscoroutinefunction(route.dependant.call), route.path
        for dependant in dependants(route):
            call = dependant.call
            if call is None or inspect.iscoroutinefunction(call):
                continue
            if inspect.isasyncgenfunction(call):
                continue  # the session's
            if inspect.iscoroutinefunction(type(call).__call__):
                continue  # a security scheme's async __call__
            synchronous.add(getattr(call, "__name__", type(call).__name__))
    assert synchronous <= no_io, synchronous - no_io
