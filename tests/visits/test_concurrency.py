"""Concurrent integration pushes against a real, committed PostgreSQL database.

These tests need real commits and several connections, so each builds its own
database (``fresh_database``) and an app on a real engine instead of the rolled-back
test connection. SQLite serializes writers, so the races only exist on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from direkte.api.app import create_app
from direkte.audit.models import AuditEvent
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.db import make_engine, make_sessionmaker
from direkte.visits.models import (
    Diagnosis,
    Estimate,
    Vehicle,
    Visit,
    VisitLists,
    VisitStatusChange,
)
from tests.conftest import fresh_database
from tests.factories import make_api_key, make_network, make_vin, visit_body

WORKERS = 8


@dataclass
class LiveApp:
    make_client: Callable[[], TestClient]
    sessions: sessionmaker[Session]
    key: str


@pytest.fixture
def live(backend: str, tmp_path: Path, settings: Settings, clock: FixedClock) -> Iterator[LiveApp]:
    """An app on its own committed PostgreSQL database, with the network and a key loaded."""
    if backend != "postgresql":
        pytest.skip("concurrency: SQLite serializes writers, so these races need PostgreSQL")
    with fresh_database("postgresql", tmp_path) as url:
        engine = make_engine(url, pool_size=WORKERS)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            make_network(session, clock)
            key = make_api_key(session, clock)
        app = create_app(settings, sessionmaker_=sessions, clock=clock)
        try:
            yield LiveApp(lambda: TestClient(app, raise_server_exceptions=False), sessions, key)
        finally:
            engine.dispose()


def all_at_once(live: LiveApp, workers: int, call: Callable[[TestClient, int], Any]) -> list[Any]:
    """Run ``call(client, i)`` from ``workers`` threads released together, a client each."""
    barrier = threading.Barrier(workers)
    clients = [live.make_client() for _ in range(workers)]

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        return call(clients[i], i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def count(sessions: sessionmaker[Session], query: sa.Select[Any]) -> int:
    with sessions() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


class TestConcurrentUpsert:
    def test_same_new_external_id_makes_one_visit(self, live: LiveApp) -> None:
        def put(client: TestClient, _i: int) -> tuple[int, Any]:
            response = client.put(
                "/api/v1/integration/visits/RO-RACE",
                json=visit_body(),
                headers={"X-API-Key": live.key},
            )
            return response.status_code, response.json()

        results = all_at_once(live, WORKERS, put)
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] * (WORKERS - 1) + [201], results
        assert len({body["id"] for _, body in results}) == 1
        assert count(live.sessions, sa.select(Visit.id)) == 1
        assert count(live.sessions, sa.select(Vehicle.id)) == 1
        assert count(live.sessions, sa.select(VisitStatusChange.id)) == 1
        created = sa.select(AuditEvent.id).where(AuditEvent.action == "visit.created")
        assert count(live.sessions, created) == 1
        updated = sa.select(AuditEvent.id).where(AuditEvent.action == "visit.updated")
        assert count(live.sessions, updated) == 0

    def test_same_new_vehicle_on_several_visits_makes_one_vehicle(self, live: LiveApp) -> None:
        def put(client: TestClient, i: int) -> int:
            return client.put(
                f"/api/v1/integration/visits/RO-{i}",
                json=visit_body(),
                headers={"X-API-Key": live.key},
            ).status_code

        assert all_at_once(live, WORKERS, put) == [201] * WORKERS
        assert count(live.sessions, sa.select(Visit.id)) == WORKERS
        assert count(live.sessions, sa.select(Vehicle.id).where(Vehicle.vin == make_vin())) == 1

    def test_racing_status_moves_keep_a_consistent_history(self, live: LiveApp) -> None:
        client = live.make_client()
        headers = {"X-API-Key": live.key}
        url = "/api/v1/integration/visits/RO-RACE"
        assert client.put(url, json=visit_body(), headers=headers).status_code == 201
        targets = ["diagnosing", "closed"] * (WORKERS // 2)

        def put(client: TestClient, i: int) -> tuple[int, str | None]:
            response = client.put(url, json=visit_body(status=targets[i]), headers=headers)
            if response.status_code == 200:
                return 200, None
            return response.status_code, response.json()["error"]["code"]

        results = all_at_once(live, WORKERS, put)
        statuses = [status for status, _ in results]
        assert set(statuses) <= {200, 409}, results
        refused = {code for status, code in results if status == 409}
        assert refused <= {"invalid_status_transition"}, results
        with live.sessions() as session:
            visit = session.scalars(sa.select(Visit)).one()
            history = session.scalars(
                sa.select(VisitStatusChange).order_by(VisitStatusChange.id)
            ).all()
        assert visit.status == "closed"
        assert history[-1].to_status == "closed"
        for earlier, later in pairwise(history):
            assert later.from_status == earlier.to_status


class TestConcurrentRevisions:
    def test_diagnoses_appended_together_get_distinct_revisions(self, live: LiveApp) -> None:
        client = live.make_client()
        headers = {"X-API-Key": live.key}
        response = client.put("/api/v1/integration/visits/RO-1", json=visit_body(), headers=headers)
        assert response.status_code == 201

        def post(client: TestClient, i: int) -> int:
            return client.post(
                "/api/v1/integration/visits/RO-1/diagnoses",
                json={"findings": f"Finding {i}"},
                headers=headers,
            ).status_code

        assert all_at_once(live, WORKERS, post) == [201] * WORKERS
        with live.sessions() as session:
            revisions = session.scalars(sa.select(Diagnosis.seq).order_by(Diagnosis.seq)).all()
        assert list(revisions) == list(range(1, WORKERS + 1))

    def test_estimates_appended_together_get_distinct_revisions(self, live: LiveApp) -> None:
        client = live.make_client()
        headers = {"X-API-Key": live.key}
        client.put("/api/v1/integration/visits/RO-1", json=visit_body(), headers=headers)

        def post(client: TestClient, i: int) -> int:
            return client.post(
                "/api/v1/integration/visits/RO-1/estimates",
                json={
                    "lines": [
                        {
                            "kind": "part",
                            "description": "Pads",
                            "quantity": "1",
                            "unit_price": f"{i}",
                        }
                    ]
                },
                headers=headers,
            ).status_code

        assert all_at_once(live, WORKERS, post) == [201] * WORKERS
        visit_id = client.put(
            "/api/v1/integration/visits/RO-1", json=visit_body(), headers=headers
        ).json()["id"]
        added = sa.select(AuditEvent.id).where(
            AuditEvent.action == "estimate.added", AuditEvent.visit_id == visit_id
        )
        assert count(live.sessions, added) == WORKERS
        with live.sessions() as session:
            revisions = session.scalars(sa.select(Estimate.seq).order_by(Estimate.seq)).all()
            postgresql = session.get_bind().dialect.name == "postgresql"
            # The inbox's ready lists (escalations/inbox_lists.py) hold every one.
            lists = session.scalar(
                sa.select(VisitLists.estimates).where(VisitLists.visit_id == visit_id)
            )
        assert list(revisions) == list(range(1, WORKERS + 1))
        if postgresql:
            assert [e["revision"] for e in lists] == list(range(1, WORKERS + 1))
