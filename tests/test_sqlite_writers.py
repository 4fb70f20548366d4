"""SQLite's one writer (db._Writer): concurrent writers all succeed, in the order they came.

The embedded default serves every request's transaction from a pool of
connections to one SQLite file, and the background worker writes to it from its
own engine in the same process. Each transaction waits for its turn on the
process's writer for that file (``BEGIN IMMEDIATE`` to ``COMMIT``), so none fails
with "database is locked" and none waits in SQLite's busy handler.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from direkte import db
from direkte.api.app import create_app
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.db import make_engine, make_sessionmaker
from direkte.visits.models import Diagnosis, Visit
from tests.conftest import fresh_database
from tests.factories import make_api_key, make_network, visit_body

WRITERS = 8
ROUNDS = 6


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("sqlite", tmp_path) as url:
        yield url


def test_concurrent_writers_all_succeed(
    sqlite_url: str, settings: Settings, clock: FixedClock
) -> None:
    engine = make_engine(sqlite_url, pool_size=WRITERS)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        make_network(session, clock)
        key = make_api_key(session, clock)
    app = create_app(settings, sessionmaker_=sessions, clock=clock)
    # A second engine on the same file, as the background worker's: it shares the writer.
    other = make_engine(sqlite_url)
    barrier = threading.Barrier(WRITERS + 1)
    clients = [TestClient(app, raise_server_exceptions=False) for _ in range(WRITERS)]

    def write(i: int) -> list[int]:
        barrier.wait(timeout=30)
        statuses = []
        for n in range(ROUNDS):
            external_id = f"RO-{i}-{n}"
            put = clients[i].put(
                f"/api/v1/integration/visits/{external_id}",
                json=visit_body(),
                headers={"X-API-Key": key},
            )
            diagnosis = clients[i].post(
                f"/api/v1/integration/visits/{external_id}/diagnoses",
                json={"findings": "Worn", "codes": ["C1"]},
                headers={"X-API-Key": key},
            )
            statuses += [put.status_code, diagnosis.status_code]
        return statuses

    def other_engine_writes() -> int:
        barrier.wait(timeout=30)
        for _ in range(ROUNDS * 2):
            with other.begin() as conn:
                conn.execute(sa.text("UPDATE visits SET concern = concern WHERE id < 0"))
        return ROUNDS * 2

    try:
        with ThreadPoolExecutor(max_workers=WRITERS + 1) as pool:
            side = pool.submit(other_engine_writes)
            results = list(pool.map(write, range(WRITERS)))
            assert side.result(timeout=120) == ROUNDS * 2
        assert [s for statuses in results for s in statuses] == [201] * (WRITERS * ROUNDS * 2)
        with sessions() as session:
            assert session.scalar(sa.select(sa.func.count(Visit.id))) == WRITERS * ROUNDS
            assert session.scalar(sa.select(sa.func.count(Diagnosis.id))) == WRITERS * ROUNDS
    finally:
        other.dispose()
        engine.dispose()


def _holding(engine: Engine) -> Any:
    """A connection in a transaction on ``engine`` (it holds the file's writer)."""
    conn = engine.connect()
    conn.begin()
    conn.execute(sa.text("SELECT 1"))
    return conn


def test_the_writer_is_handed_over_in_the_order_of_arrival(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, pool_size=6)
    try:
        first = _holding(engine)
        order: list[int] = []
        started: list[threading.Event] = [threading.Event() for _ in range(4)]

        def wait_turn(i: int) -> None:
            started[i].set()
            with engine.begin() as conn:
                order.append(i)
                conn.execute(sa.text("SELECT 1"))

        threads = []
        for i in range(4):  # one after the other: each is queued before the next comes
            thread = threading.Thread(target=wait_turn, args=(i,))
            thread.start()
            started[i].wait(5)
            time.sleep(0.05)
            threads.append(thread)
        assert order == []  # all wait for the first transaction
        first.rollback()
        first.close()
        for thread in threads:
            thread.join(10)
        assert order == [0, 1, 2, 3]
    finally:
        engine.dispose()


def test_a_writer_that_waits_too_long_gets_database_is_locked(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db._Writer, "TIMEOUT", 0.2)
    engine = make_engine(sqlite_url)
    other = make_engine(sqlite_url)  # the same file: the same writer
    try:
        holder = _holding(engine)
        with (
            pytest.raises(sa.exc.OperationalError, match="database is locked"),
            other.begin() as conn,
        ):
            conn.execute(sa.text("SELECT 1"))
        holder.rollback()
        holder.close()
        # Given back: the next one writes at once, and nothing is left waiting.
        with other.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
    finally:
        other.dispose()
        engine.dispose()
