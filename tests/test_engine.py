"""The PostgreSQL engine's check-out: one BEGIN is both the liveness check and the
transaction's start (db._begin_as_ping), and a connection the server dropped is
replaced instead of failing the request. Both engines: the plain one (commands, jobs)
and the app's on the event loop (psycopg's async connections, used in a greenlet)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from psycopg import pq
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from direkte import direct
from direkte.db import make_engine, on_event_loop, prepared_rows
from tests.conftest import PG_ENV, fresh_database
from tests.loops import run_in_own_loop

Body = Callable[[Engine], None]


@pytest.fixture(params=["plain", "event_loop"])
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[Body], None]]:
    """Run a test's body on an engine of one pooled connection on a fresh PostgreSQL
    database: a plain engine, or the app's on the event loop (the body then runs in a
    greenlet, as a request's code does, and the engine lives in that one loop)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL leg skipped: {PG_ENV} is not set")
    on_loop = request.param == "event_loop"
    with fresh_database("postgresql", tmp_path) as url:

        def run(body: Body) -> None:
            def whole() -> None:
                engine = make_engine(url, pool_size=1, on_event_loop=on_loop)
                assert on_event_loop(engine) is on_loop
                try:
                    body(engine)
                finally:
                    engine.dispose()

            if on_loop:
                run_in_own_loop(lambda: greenlet_spawn(whole))
            else:
                whole()

        yield run


def test_checked_out_connection_is_in_its_transaction(pg: Callable[[Body], None]) -> None:
    pg(_checked_out_connection_is_in_its_transaction)


def _checked_out_connection_is_in_its_transaction(pg: Engine) -> None:
    with pg.connect() as conn:
        info = conn.connection.driver_connection.info  # type: ignore[union-attr]
        assert info.transaction_status == pq.TransactionStatus.INTRANS
        started = conn.execute(
            sa.text("SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        ).scalar()
        # the statement ran in the transaction BEGIN opened, not in one of its own
        assert started == conn.execute(sa.text("SELECT transaction_timestamp()")).scalar()


def test_writes_are_committed_and_rollbacks_undo(pg: Callable[[Body], None]) -> None:
    pg(_writes_are_committed_and_rollbacks_undo)


def _writes_are_committed_and_rollbacks_undo(pg: Engine) -> None:
    table = f"t_{uuid.uuid4().hex[:8]}"
    with pg.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (n int)"))
    with pg.connect() as conn:
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (1)"))
        conn.commit()
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (2)"))
        conn.rollback()
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (3)"))
    # closed without commit: rolled back on return to the pool
    other = sa.create_engine(pg.url)
    with other.connect() as conn:
        assert conn.execute(sa.text(f"SELECT n FROM {table}")).scalars().all() == [1]
    other.dispose()


def test_connection_dropped_by_the_server_is_replaced(pg: Callable[[Body], None]) -> None:
    pg(_connection_dropped_by_the_server_is_replaced)


def _connection_dropped_by_the_server_is_replaced(pg: Engine) -> None:
    with pg.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()
    with pg.connect() as conn:  # the pooled connection is dead: a new one
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid


def test_settings_change_on_a_checked_out_connection(pg: Callable[[Body], None]) -> None:
    pg(_settings_change_on_a_checked_out_connection)


def _settings_change_on_a_checked_out_connection(pg: Engine) -> None:
    # SQLAlchemy changes a connection's settings outside its own transactions only:
    # the ping's BEGIN is rolled back first, and the next check-out begins again.
    name = f"direkte_test_{uuid.uuid4().hex[:12]}"
    with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')  # refused inside a transaction
        conn.exec_driver_sql(f'DROP DATABASE "{name}"')
    with pg.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
        level = conn.execute(sa.text("SHOW transaction_isolation")).scalar()
        assert level == "serializable"
    with pg.connect().execution_options(postgresql_readonly=True) as conn:
        assert conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"
    with pg.connect() as conn:  # the same pooled connection, back to the defaults
        info = conn.connection.driver_connection.info  # type: ignore[union-attr]
        assert info.transaction_status == pq.TransactionStatus.INTRANS
        level = conn.execute(sa.text("SHOW transaction_isolation")).scalar()
        assert level == "read committed"


def test_connection_whose_socket_is_gone_is_replaced(pg: Callable[[Body], None]) -> None:
    pg(_connection_whose_socket_is_gone_is_replaced)


def _connection_whose_socket_is_gone_is_replaced(pg: Engine) -> None:
    with pg.connect() as conn:
        dbapi = conn.connection.driver_connection
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    dbapi.pgconn.finish()  # type: ignore[union-attr]  # libpq's side closed
    with pg.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid


def test_prepared_rows_on_the_sessions_connection(pg: Callable[[Body], None]) -> None:
    pg(_prepared_rows_on_the_sessions_connection)


def _prepared_rows_on_the_sessions_connection(pg: Engine) -> None:
    with Session(pg) as session:
        txid = session.execute(sa.text("SELECT txid_current()")).scalar()
        prepared = sa.text("SELECT count(*) FROM pg_prepared_statements")
        assert session.execute(prepared).scalar() == 0
        for n in (1, 2):
            rows = prepared_rows(session, "SELECT %(n)s::int + 1, txid_current()", {"n": n})
            assert rows == [(n + 1, txid)]  # in the session's transaction
            # prepared at the first run (psycopg alone would wait for the fifth)
            assert session.execute(prepared).scalar() == 1


# direkte.direct: Core statements straight through psycopg, on both engines.
_DIRECT_ONE = direct.Select(
    sa.select(
        sa.cast(sa.bindparam("n", type_=sa.Integer) + 1, sa.Integer).label("n"),
        sa.cast(sa.literal("1.50"), sa.Numeric(18, 4)).label("amount"),
        sa.func.txid_current().label("txid"),
    )
)


def test_direct_rows_in_the_sessions_transaction(pg: Callable[[Body], None]) -> None:
    pg(_direct_rows_in_the_sessions_transaction)


def _direct_rows_in_the_sessions_transaction(pg: Engine) -> None:
    with Session(pg) as session:
        txid = session.execute(sa.text("SELECT txid_current()")).scalar()
        one, two = direct.pipeline(session, [(_DIRECT_ONE, {"n": 1}), (_DIRECT_ONE, {"n": 2})])
        assert [tuple(r) for r in one + two] == [
            (2, Decimal("1.5000"), txid),
            (3, Decimal("1.5000"), txid),
        ]
        assert one[0].amount == Decimal("1.5")  # read by name, converted by its type


def test_direct_error_is_sqlalchemys_and_a_dead_connection_is_replaced(
    pg: Callable[[Body], None],
) -> None:
    pg(_direct_error_is_sqlalchemys_and_a_dead_connection_is_replaced)


def _direct_error_is_sqlalchemys_and_a_dead_connection_is_replaced(pg: Engine) -> None:
    failing = direct.Select(sa.select(sa.cast(sa.literal("x"), sa.Integer)))
    with pg.connect() as conn:
        with pytest.raises(sa.exc.DataError) as refused:
            failing.rows(conn, {})
        assert not refused.value.connection_invalidated
        conn.rollback()
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as other:
            sql = sa.text("SELECT pg_terminate_backend(:p)")
            assert other.execute(sql, {"p": pid}).scalar()
        admin.dispose()
        with pytest.raises(sa.exc.DBAPIError) as gone:
            _DIRECT_ONE.rows(conn, {"n": 1})
        assert gone.value.connection_invalidated  # the pool will not hand it out again
    with pg.connect() as conn:
        assert _DIRECT_ONE.rows(conn, {"n": 1})[0].n == 2
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid


def test_direct_refuses_a_missing_value(pg: Callable[[Body], None]) -> None:
    pg(_direct_refuses_a_missing_value)


def _direct_refuses_a_missing_value(pg: Engine) -> None:
    with pg.connect() as conn, pytest.raises(sa.exc.StatementError, match="required"):
        _DIRECT_ONE.rows(conn, {})  # not run with n NULL, as SQLAlchemy would not
