"""The PostgreSQL engine's check-out: one BEGIN is both the liveness check and the
transaction's start (db._begin_as_ping), and a connection the server dropped is
replaced instead of failing the request."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from psycopg import pq

from direkte.db import make_engine
from tests.conftest import PG_ENV, fresh_database


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL leg skipped: {PG_ENV} is not set")
    with fresh_database("postgresql", tmp_path) as url:
        yield url


def test_checked_out_connection_is_in_its_transaction(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            info = conn.connection.dbapi_connection.info  # type: ignore[union-attr]
            assert info.transaction_status == pq.TransactionStatus.INTRANS
            started = conn.execute(
                sa.text("SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            ).scalar()
            # the statement ran in the transaction BEGIN opened, not in one of its own
            assert started == conn.execute(sa.text("SELECT transaction_timestamp()")).scalar()
    finally:
        engine.dispose()


def test_writes_are_committed_and_rollbacks_undo(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    table = f"t_{uuid.uuid4().hex[:8]}"
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE {table} (n int)"))
        with engine.connect() as conn:
            conn.execute(sa.text(f"INSERT INTO {table} VALUES (1)"))
            conn.commit()
            conn.execute(sa.text(f"INSERT INTO {table} VALUES (2)"))
            conn.rollback()
            conn.execute(sa.text(f"INSERT INTO {table} VALUES (3)"))
        # closed without commit: rolled back on return to the pool
        other = sa.create_engine(engine.url)
        with other.connect() as conn:
            assert conn.execute(sa.text(f"SELECT n FROM {table}")).scalars().all() == [1]
        other.dispose()
    finally:
        engine.dispose()


def test_connection_dropped_by_the_server_is_replaced(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        admin.dispose()
        with engine.connect() as conn:  # the pooled connection is dead: a new one
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()


def test_settings_change_on_a_checked_out_connection(pg_url: str) -> None:
    # SQLAlchemy changes a connection's settings outside its own transactions only:
    # the ping's BEGIN is rolled back first, and the next check-out begins again.
    engine = make_engine(pg_url, pool_size=1)
    name = f"direkte_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')  # refused inside a transaction
            conn.exec_driver_sql(f'DROP DATABASE "{name}"')
        with engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
            level = conn.execute(sa.text("SHOW transaction_isolation")).scalar()
            assert level == "serializable"
        with engine.connect().execution_options(postgresql_readonly=True) as conn:
            assert conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"
        with engine.connect() as conn:  # the same pooled connection, back to the defaults
            info = conn.connection.dbapi_connection.info  # type: ignore[union-attr]
            assert info.transaction_status == pq.TransactionStatus.INTRANS
            level = conn.execute(sa.text("SHOW transaction_isolation")).scalar()
            assert level == "read committed"
    finally:
        engine.dispose()


def test_connection_whose_socket_is_gone_is_replaced(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        dbapi.pgconn.finish()  # type: ignore[union-attr]  # libpq's side closed
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()
