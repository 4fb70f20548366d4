"""The inbox's ready lists on PostgreSQL (escalations/inbox_lists.py): installed as
the module writes them, rebuilt by every change, never older than the last commit."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from direkte.api.app import create_app
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.db import MIGRATIONS, make_engine, make_sessionmaker
from direkte.escalations import inbox_lists
from direkte.escalations.schemas import GUARDRAIL_FIELDS
from tests.conftest import T0, fresh_database
from tests.escalations.conftest import World
from tests.escalations.test_access import KARI, OLA
from tests.factories import make_api_key, make_network, push_visit


def _pg(session: Any) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the ready lists are PostgreSQL's (SQLite's inbox reads the rows)")


def _lists(connection: sa.Connection, visit_id: int) -> dict[str, Any]:
    row = connection.execute(
        sa.text(
            "SELECT estimates, diagnoses, warranty_decisions FROM visit_lists WHERE visit_id = :v"
        ),
        {"v": visit_id},
    ).one()
    return {"estimates": row[0], "diagnoses": row[1], "warranty_decisions": row[2]}


class TestInstalled:
    def test_the_databases_functions_are_the_modules(self, session: Any) -> None:
        # A change to the lists' SQL needs a migration that installs it again.
        _pg(session)
        installed = dict(
            session.execute(
                sa.text("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'direkte_%'")
            ).all()
        )
        assert installed == inbox_lists.function_bodies()

    def test_the_newest_migration_installs_the_modules_statements(self) -> None:
        # The migration holds its SQL as literal text; the module is where the next one
        # is written from. Functions, triggers, their removal and the backfill alike.
        versions = MIGRATIONS / "versions"
        installing = []
        for path in sorted(versions.glob("0*.py")):
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if hasattr(module, "INSTALL"):
                installing.append(module)
        newest = installing[-1]
        assert [newest._filled(s) for s in newest.INSTALL] == inbox_lists.install_statements()
        assert inbox_lists.function_bodies() == newest.BODIES
        assert inbox_lists.drop_statements() == newest.DROP
        assert inbox_lists.backfill_statements() == newest.BACKFILL

    def test_every_list_table_has_its_three_triggers(self, session: Any) -> None:
        _pg(session)
        rows = session.execute(
            sa.text(
                "SELECT event_object_table, count(DISTINCT event_manipulation) "
                "FROM information_schema.triggers WHERE trigger_name LIKE 'visit_lists_on_%' "
                "GROUP BY 1"
            )
        ).all()
        assert dict(rows) == dict.fromkeys(inbox_lists.LIST_TABLES, 3)


class TestKeptAtWriteTime:
    def test_the_shown_guardrail_is_the_contracts_fields_of_the_decision(
        self, world: World, session: Any
    ) -> None:
        _pg(session)
        visit = world.visit("RO-G")
        opened = world.escalate(visit, world.diagnosis("RO-G"))
        assert opened.status_code == 201, opened.text
        stored, shown = session.execute(
            sa.text("SELECT guardrail::text, guardrail_shown::text FROM escalations WHERE id = :i"),
            {"i": opened.json()["id"]},
        ).one()
        decision = orjson.loads(stored)
        assert "reason" in decision
        assert orjson.loads(shown) == {k: decision.get(k) for k in GUARDRAIL_FIELDS}

    def test_a_change_after_the_case_opened_is_on_the_next_page(
        self, world: World, session: Any
    ) -> None:
        _pg(session)
        visit = world.visit("RO-L")
        opened = world.escalate(visit, world.diagnosis("RO-L"))
        assert opened.status_code == 201, opened.text

        def context() -> dict[str, Any]:
            page = world.client.get("/api/v1/inbox?limit=50", headers=world.as_(KARI)).json()
            item = next(i for i in page["items"] if i["id"] == opened.json()["id"])
            return dict(item["context"])

        before = context()
        estimate_id = world.estimate("RO-L", total="777")
        after = context()
        assert len(after["estimates"]) == len(before["estimates"]) + 1
        assert after["estimates"][-1]["total"] == {"amount": "777.00", "currency": "NOK"}
        assert after["estimates"][-1]["approved"] is False
        approved = world.client.post(
            f"/api/v1/visits/{visit}/estimates/{estimate_id}/approve", headers=world.as_(OLA)
        )
        assert approved.status_code == 200, approved.text
        assert context()["estimates"][-1]["approved"] is True
        world.warranty(
            "RO-L",
            decision="not_covered",
            claimed="500",
            covered="0",
            reason_code="W-WEAR",
            safety_related=False,
        )
        decisions = context()["warranty_decisions"]
        assert [(d["decision"], d["claimed"]["amount"]) for d in decisions] == [
            ("not_covered", "500.00")
        ]
        session.execute(sa.text("DELETE FROM diagnoses WHERE visit_id = :v"), {"v": visit})
        assert context()["diagnoses"] == []
        assert context()["diagnosis_codes"] == []


@pytest.fixture
def committed(tmp_path: Path) -> Iterator[tuple[sa.Engine, int, list[int]]]:
    """A PostgreSQL database of its own whose transactions commit: a visit, two estimates."""
    with fresh_database("postgresql", tmp_path) as url:
        engine = make_engine(url)
        sessions: sessionmaker[Any] = make_sessionmaker(engine)
        clock = FixedClock(T0)
        settings = Settings(secret_key="test-secret-key-0123456789-abcdefghijklmnop")
        try:
            with (
                sessions() as session,
                TestClient(create_app(settings, sessionmaker_=sessions, clock=clock)) as client,
            ):
                make_network(session, clock)
                key = make_api_key(session, clock)
                visit = push_visit(client, key)
                ids = []
                for total in ("100", "200"):
                    response = client.post(
                        "/api/v1/integration/visits/RO-1/estimates",
                        json={
                            "lines": [
                                {
                                    "kind": "part",
                                    "description": "Pads",
                                    "quantity": "1",
                                    "unit_price": total,
                                }
                            ],
                            "reason": "revised",
                        },
                        headers={"X-API-Key": key},
                    )
                    assert response.status_code == 201, response.text
                    ids.append(int(response.json()["id"]))
            yield engine, visit, ids
        finally:
            engine.dispose()


class TestConcurrentWriters:
    def test_the_last_commit_sees_the_writer_it_waited_for(
        self, committed: tuple[sa.Engine, int, list[int]]
    ) -> None:
        # Two transactions change two estimates of one visit. The second's rebuild waits
        # for the first's lock on the visit and then reads what the first committed;
        # read in its own statement's snapshot, it would write the first's estimate back
        # as it was.
        engine, visit, (first, second) = committed
        one, two = engine.connect(), engine.connect()
        try:
            one.begin()
            one.execute(sa.text("UPDATE estimates SET total = 111 WHERE id = :i"), {"i": first})
            errors: list[BaseException] = []

            def other() -> None:
                try:
                    with two.begin():
                        two.execute(
                            sa.text("UPDATE estimates SET total = 222 WHERE id = :i"),
                            {"i": second},
                        )
                except BaseException as error:  # pragma: no cover - reported below
                    errors.append(error)

            thread = threading.Thread(target=other)
            thread.start()
            with engine.connect() as watch:
                for _ in range(100):
                    waiting = watch.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                    ).scalar_one()
                    if waiting:
                        break
                    time.sleep(0.05)
            assert waiting, "the second writer did not wait for the first"
            one.commit()
            thread.join(timeout=10)
            assert not thread.is_alive()
            assert not errors, errors
            with engine.connect() as reader:
                totals = [e["total"]["amount"] for e in _lists(reader, visit)["estimates"]]
            assert totals == ["111.00", "222.00"]
        finally:
            one.close()
            two.close()

    def test_a_rolled_back_change_leaves_the_lists_as_they_were(
        self, committed: tuple[sa.Engine, int, list[int]]
    ) -> None:
        engine, visit, (first, _) = committed
        with engine.connect() as reader:
            before = _lists(reader, visit)
        with engine.connect() as writer:
            writer.begin()
            writer.execute(sa.text("UPDATE estimates SET total = 5 WHERE id = :i"), {"i": first})
            assert _lists(writer, visit) != before
            writer.rollback()
        with engine.connect() as reader:
            assert _lists(reader, visit) == before


class TestMigration:
    def test_0012_fills_the_lists_and_shown_forms_of_what_was_there(self, tmp_path: Path) -> None:
        # The demo's visits and cases written before 0012 (downgraded to 0011), then
        # upgraded: the backfill gives what the triggers gave when they were written.
        from alembic import command

        from direkte.db import alembic_config
        from direkte.demo.generator import load_demo

        def kept(engine: sa.Engine) -> tuple[list[Any], list[Any]]:
            with engine.connect() as conn:
                lists = conn.execute(
                    sa.text(
                        "SELECT visit_id, diagnoses::text, diagnosis_codes::text,"
                        " estimates::text, warranty_decisions::text"
                        " FROM visit_lists ORDER BY visit_id"
                    )
                ).all()
                shown = conn.execute(
                    sa.text("SELECT id, guardrail_shown::text FROM escalations ORDER BY id")
                ).all()
            return [tuple(r) for r in lists], [tuple(r) for r in shown]

        with fresh_database("postgresql", tmp_path) as url:
            engine = make_engine(url)
            try:
                with make_sessionmaker(engine)() as session:
                    load_demo(session, visits=80, customers=12, clock=FixedClock(T0))
                    session.commit()
                written = kept(engine)
                assert len(written[0]) > 20
                assert written[1]
                assert all(shown for _, shown in written[1])
                command.downgrade(alembic_config(url), "0011")
                with engine.connect() as conn:
                    left = conn.execute(
                        sa.text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'direkte_%'")
                    ).scalar_one()
                assert left == 0
                command.upgrade(alembic_config(url), "head")
                assert kept(engine) == written
            finally:
                engine.dispose()
