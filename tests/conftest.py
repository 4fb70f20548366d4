"""Fixtures: every database test runs on SQLite and on PostgreSQL.

The PostgreSQL leg uses DIREKTE_TEST_POSTGRES_URL (a server where we may create
databases); without it those tests are skipped, loudly. Schemas are built with the
migrations. Each test runs inside an outer transaction that is rolled back.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from direkte.api.app import create_app
from direkte.clock import FixedClock
from direkte.config import Settings, get_settings, normalize_database_url
from direkte.db import make_engine, upgrade_database

PG_ENV = "DIREKTE_TEST_POSTGRES_URL"
# Property tests draw fresh examples on every local run (that is how they find
# bugs); CI sets HYPOTHESIS_PROFILE=ci for the same examples on every run, so a
# landing never hinges on a lucky draw.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
BACKENDS = ["sqlite", "postgresql"]
# A Wednesday, 10:00 in Oslo: centers are open.
T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def pytest_report_header() -> str:
    if os.environ.get(PG_ENV):
        return f"direkte: PostgreSQL tests ON ({PG_ENV} is set)"
    return f"direkte: PostgreSQL tests SKIPPED — set {PG_ENV} to run them"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not os.environ.get(PG_ENV):
        terminalreporter.write_sep(
            "!", f"PostgreSQL tests were SKIPPED: {PG_ENV} is not set", yellow=True, bold=True
        )


@contextmanager
def fresh_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Create an empty database of ``backend``, migrated to head; drop it afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / f'direkte-{uuid.uuid4().hex[:8]}.sqlite3'}"
        upgrade_database(url)
        yield url
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL leg skipped: {PG_ENV} is not set")
    base_url = make_url(normalize_database_url(base))
    name = f"direkte_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_database(backend, tmp_path_factory.mktemp(backend)) as url:
        eng = make_engine(url)
        yield eng
        eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[sa.Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection: sa.Connection) -> sessionmaker[Session]:
    """Sessions that share the test's connection; their commits release savepoints."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(secret_key="test-secret-key-0123456789-abcdefghijklmnop", data_dir=tmp_path)


@pytest.fixture
def app_factory(
    session_factory: sessionmaker[Session], clock: FixedClock, settings: Settings
) -> Callable[[], TestClient]:
    def make() -> TestClient:
        app = create_app(settings, sessionmaker_=session_factory, clock=clock)
        return TestClient(app, raise_server_exceptions=False)

    return make


@pytest.fixture
def client(app_factory: Callable[[], TestClient]) -> TestClient:
    return app_factory()


@pytest.fixture
def cli_env(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, committed database for CLI tests; DIREKTE_DATABASE_URL points at it."""
    with fresh_database(backend, tmp_path) as url:
        monkeypatch.setenv("DIREKTE_DATABASE_URL", url)
        monkeypatch.setenv("DIREKTE_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("DIREKTE_SECRET_KEY", "cli-test-secret-0123456789-abcdefghijklmnop")
        get_settings.cache_clear()
        yield url
        get_settings.cache_clear()
