"""The migrations build both databases, match the models, and keep money exact."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.cli import main
from direkte.clock import FixedClock
from direkte.db import database_is_current, make_engine
from direkte.models import Base
from direkte.visits.models import Estimate
from tests.conftest import fresh_database
from tests.factories import make_api_key, make_network, push_visit


@pytest.fixture
def migrated(backend: str, tmp_path: Path) -> Iterator[sa.Engine]:
    """A database of its own, built from empty by the migrations alone."""
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def drift(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


class TestMigrations:
    def test_migrated_schema_matches_models(self, migrated: sa.Engine) -> None:
        assert drift(migrated) == []

    def test_every_model_table_exists(self, migrated: sa.Engine) -> None:
        tables = set(sa.inspect(migrated).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables

    def test_migrated_database_is_current(self, migrated: sa.Engine) -> None:
        assert database_is_current(migrated)

    def test_empty_database_is_not_current(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        try:
            assert not database_is_current(engine)
        finally:
            engine.dispose()


class TestDbUpgradeCommand:
    def test_upgrade_is_idempotent(self, cli_env: str) -> None:
        for _ in range(2):
            result = CliRunner().invoke(main, ["db", "upgrade"])
            assert result.exit_code == 0, result.output
            assert "up to date" in result.stdout
        engine = make_engine(cli_env)
        try:
            assert database_is_current(engine)
            assert drift(engine) == []
        finally:
            engine.dispose()

    def test_upgrade_builds_empty_database(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from direkte.config import get_settings

        url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
        monkeypatch.setenv("DIREKTE_DATABASE_URL", url)
        monkeypatch.setenv("DIREKTE_SECRET_KEY", "cli-test-secret-0123456789-abcdefghijklmnop")
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(main, ["db", "upgrade"])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        engine = make_engine(url)
        try:
            assert database_is_current(engine)
            assert drift(engine) == []
        finally:
            engine.dispose()


class TestMoneyRoundTrip:
    @pytest.mark.parametrize(
        "total",
        [
            "12345678901.2345",
            "99999999999999.9999",
            "-99999999999999.9999",
            "0.0001",
            "0.1000",
            "1234.5",
        ],
    )
    def test_estimate_total_survives_storing_exactly(
        self, client: TestClient, session: Session, clock: FixedClock, total: str
    ) -> None:
        make_network(session, clock)
        push_visit(client, make_api_key(session, clock))
        response = client.post(
            "/api/v1/integration/visits/RO-1/estimates",
            json={
                "lines": [
                    {"kind": "part", "description": "Pads", "quantity": "1", "unit_price": "1.00"}
                ],
                "reason": "first",
            },
            headers={"X-API-Key": make_api_key(session, clock, name="second")},
        )
        assert response.status_code == 201, response.text
        estimate_id = response.json()["id"]
        estimate = session.get(Estimate, estimate_id)
        assert estimate is not None
        estimate.total = Decimal(total)
        session.commit()
        session.expire_all()

        reloaded = session.scalar(sa.select(Estimate.total).where(Estimate.id == estimate_id))
        assert isinstance(reloaded, Decimal)
        assert reloaded == Decimal(total)
        # Same value, no float detour: compare the digits, not just equality.
        assert reloaded.normalize() == Decimal(total).normalize()
        assert str(reloaded.normalize()) == str(Decimal(total).normalize())

    def test_reloaded_tenths_add_up_exactly(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock)
        key = make_api_key(session, clock)
        push_visit(client, key)
        ids = []
        for _ in range(3):
            response = client.post(
                "/api/v1/integration/visits/RO-1/estimates",
                json={
                    "lines": [
                        {
                            "kind": "labour",
                            "description": "Fit",
                            "quantity": "1",
                            "unit_price": "1.00",
                        }
                    ],
                    "reason": "revision",
                },
                headers={"X-API-Key": key},
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        for estimate_id in ids:
            estimate = session.get(Estimate, estimate_id)
            assert estimate is not None
            estimate.total = Decimal("0.1000")
        session.commit()
        session.expire_all()
        totals = session.scalars(sa.select(Estimate.total).where(Estimate.id.in_(ids))).all()
        # 0.1 + 0.1 + 0.1 is 0.3 in decimals and 0.30000000000000004 in floats.
        assert sum(totals, Decimal(0)) == Decimal("0.3")


class TestProgramHistoryBackfill:
    def test_0009_records_each_center_in_its_program_since_created(
        self, backend: str, tmp_path: Path
    ) -> None:
        from alembic import command

        from direkte.db import alembic_config

        with fresh_database(backend, tmp_path) as url:
            engine = make_engine(url)
            try:
                command.downgrade(alembic_config(url), "0008")
                with engine.begin() as conn:
                    conn.execute(
                        sa.text(
                            "INSERT INTO regions (id, code, name, countries, time_zone,"
                            " created_at, updated_at) VALUES (1, 'R', 'R', '[\"NO\"]',"
                            " 'Europe/Oslo', :t, :t)"
                        ),
                        {"t": "2026-01-02 03:04:05"},
                    )
                    for cid, program in ((1, "pilot"), (2, "off")):
                        conn.execute(
                            sa.text(
                                "INSERT INTO centers (id, code, name, region_id, country,"
                                " time_zone, lat, lon, business_hours, closed_dates,"
                                " capacity_bays, currency, program, created_at, updated_at)"
                                " VALUES (:id, :code, 'C', 1, 'NO', 'Europe/Oslo', 0, 0, '{}',"
                                " '[]', 4, 'NOK', :program, :t, :t)"
                            ),
                            {
                                "id": cid,
                                "code": f"C{cid}",
                                "program": program,
                                "t": "2026-01-02 03:04:05",
                            },
                        )
                command.upgrade(alembic_config(url), "head")
                with engine.connect() as conn:
                    rows = conn.execute(
                        sa.text(
                            "SELECT center_id, program, actor FROM center_program_changes"
                            " ORDER BY center_id"
                        )
                    ).all()
                assert [tuple(r) for r in rows] == [
                    (1, "pilot", "migration"),
                    (2, "off", "migration"),
                ]
            finally:
                engine.dispose()
