"""Engine, sessions, the declarative base and the column types shared by every domain."""

from __future__ import annotations

import enum
import inspect
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.util import await_only

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC; naive values are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(sa.TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, text on SQLite (which has no decimal type)."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 4) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:  # noqa: ARG002
        if value is None:
            return None
        return Decimal(str(value)) if not isinstance(value, Decimal) else value


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR with a CHECK constraint, stored by value."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _json_text(value: Any) -> str:
    """JSON columns are written with orjson (compact; keys that are not strings, as the
    standard library's ``json`` allows, are written as strings too)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, on_event_loop: bool = False
) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and serialized writers.

    JSON columns are read and written with orjson (about three times the standard
    library's speed; a backtest decodes a JSON document per recorded request, an
    escalation create writes about ten). Every JSON
    value direkte stores is its own (no integers beyond 64 bits), which orjson reads
    exactly as ``json`` does.

    ``hide_parameters``: a database error's message names the statement but not its
    values, so no personal data (names, e-mails, complaints) reaches the logs.

    ``on_event_loop`` (the app's engine): on PostgreSQL, psycopg's async connections
    under SQLAlchemy's sync API, for code run in a greenlet on the event loop
    (``kit.offload``; docs/architecture.md, "The way of a request"). Used anywhere
    else, such an engine raises ``MissingGreenlet``. SQLite ignores it.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            json_serializer=_json_text,
            json_deserializer=orjson.loads,
            connect_args={
                "check_same_thread": False,
                "timeout": 30,
                "factory": _SerializedConnection,
            },
        )
        _tune_sqlite(engine)
        return engine
    options: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,
        "json_serializer": _json_text,
        "json_deserializer": orjson.loads,
        "pool_size": pool_size,
        "max_overflow": pool_size,
    }
    if on_event_loop and sa.make_url(url).get_backend_name() == "postgresql":
        return _event_loop_engine(url, options)
    engine = sa.create_engine(url, **options)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "do_connect", _connect_begin_as_ping)
        event.listen(engine, "checkout", _begin_as_ping)
    return engine


def _event_loop_engine(url: str, options: dict[str, Any]) -> Engine:
    """The sync face of an async PostgreSQL engine, its connections pinged by BEGIN."""
    from direkte.pg import AsyncBeginAsPingConnection

    engine = create_async_engine(
        sa.make_url(url).set(drivername="postgresql+psycopg"),
        connect_args={"async_creator_fn": AsyncBeginAsPingConnection.connect},
        **options,
    ).sync_engine
    event.listen(engine, "checkout", _async_begin_as_ping)
    return engine


def on_event_loop(engine: Engine) -> bool:
    """Whether the engine runs its I/O on the event loop (``make_engine(on_event_loop=True)``)."""
    return bool(engine.dialect.is_async)


def _async_begin_as_ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """``_begin_as_ping`` on an engine of the event loop (run in a greenlet)."""
    if not await_only(dbapi_connection.driver_connection.begin_as_ping()):
        raise sa.exc.DisconnectionError("the pooled connection failed BEGIN")


def prepared_rows(
    session: Session, sql: str, params: dict[str, Any], *, binary: bool = False
) -> list[tuple[Any, ...]]:
    """Run psycopg SQL (``%(name)s`` placeholders) on the session's PostgreSQL
    connection, in its transaction, as a prepared statement (psycopg's
    ``prepare=True``: parsed and planned once per connection); its rows, in psycopg's
    binary format if ``binary`` (``bytea`` as ``bytes``).

    On an engine of the event loop the connection is psycopg's async one, awaited in
    the request's greenlet (``kit.offload``)."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    cursor = driver.execute(sql, params, prepare=True, binary=binary)
    if not inspect.isawaitable(cursor):
        return cursor.fetchall()  # type: ignore[no-any-return]
    rows: list[tuple[Any, ...]] = await_only(await_only(cursor).fetchall())
    return rows


def _connect_begin_as_ping(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Open the engine's PostgreSQL connections as ``BeginAsPingConnection``."""
    from direkte.pg import BeginAsPingConnection

    return BeginAsPingConnection.connect(*cargs, **cparams)


def _begin_as_ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Check a pooled PostgreSQL connection at check-out by starting its transaction
    (``pg.BeginAsPingConnection.begin_as_ping``): one round trip, where SQLAlchemy's
    ``pool_pre_ping`` costs one of its own (``SELECT 1``, with autocommit switched on
    and off around it) before psycopg's ``BEGIN``. A connection the server dropped
    fails it, and the pool replaces it (``DisconnectionError``: SQLAlchemy's
    documented custom ping)."""
    if not dbapi_connection.begin_as_ping():  # a BeginAsPingConnection (do_connect)
        raise sa.exc.DisconnectionError("the pooled connection failed BEGIN")


class _Writer:
    """The one writer of an SQLite database in this process: held from a
    transaction's ``BEGIN IMMEDIATE`` to its ``COMMIT`` or ``ROLLBACK``, handed to
    the waiting transactions in the order they came.

    SQLite lets one transaction write at a time; the others wait in its busy
    handler, which polls with growing sleeps (up to 100 ms each), so under
    concurrent writers a waiting transaction starts late, long after the database
    was free, and in no particular order (8 writers: p99 740 ms, maximum 2.5 s,
    docs/performance.md). Waiting here instead, a transaction starts as soon as
    the one before it ends, first come first served. Every engine of the process
    on the same file (the app's, the background worker's) shares it; other
    processes still meet on SQLite's busy timeout. Released by whichever thread
    ends the transaction (FastAPI may begin it in one thread and commit in another).
    """

    TIMEOUT = 30.0  # seconds, as the busy timeout

    _writers: ClassVar[dict[str, _Writer]] = {}
    _registry = threading.Lock()

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

    @classmethod
    def of(cls, database: str) -> _Writer:
        with cls._registry:
            return cls._writers.setdefault(str(Path(database).resolve()), cls())

    def acquire(self) -> None:
        """Wait for the writer's turn. Raises OperationalError ("database is locked")
        after TIMEOUT seconds, as SQLite would."""
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=self.TIMEOUT):
            return  # handed over by release()
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
                raise sqlite3.OperationalError("database is locked")
        # Handed over just as the wait timed out: the turn is ours.

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()  # still held, by the next in line
            else:
                self._held = False


class _SerializedConnection(sqlite3.Connection):
    """An SQLite connection that holds its database's writer lock while in a
    transaction: taken at ``BEGIN IMMEDIATE``, given back once the transaction
    ended (commit, rollback, or the connection closed)."""

    writer: _Writer | None = None
    holding = False

    def begin(self) -> None:
        assert self.writer is not None
        self.writer.acquire()
        self.holding = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self.holding:
            self.holding = False
            assert self.writer is not None
            self.writer.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            if not self.in_transaction:
                self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()


def _tune_sqlite(engine: Engine) -> None:
    database = engine.url.database
    writer = _Writer.of(database) if database not in (None, "", ":memory:") else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so that SAVEPOINT
        # works and every transaction starts as a writer (BEGIN IMMEDIATE):
        # writers then queue on the busy timeout instead of failing on upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if isinstance(dbapi_connection, _SerializedConnection) and writer is not None:
            dbapi_connection.writer = writer
            try:
                dbapi_connection.begin()
            except sqlite3.OperationalError as exc:  # as SQLAlchemy reports the driver's
                raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def counter_engine(engine: Engine) -> Engine:
    """An engine for the limits' counters (one short transaction per hit).

    On PostgreSQL its own small pool, where each statement commits by itself (one
    round trip) without waiting for the commit to reach the disk
    (``synchronous_commit=off``: a crash may forget a window's last counts, nothing
    else), and without a ping before each use (``auth.limits`` retries once on a
    dropped connection). SQLite keeps the one engine, whose transactions are serialized anyway.
    """
    if engine.dialect.name != "postgresql":
        return engine
    options: dict[str, Any] = {
        "isolation_level": "AUTOCOMMIT",
        "pool_size": engine.pool.size(),  # type: ignore[attr-defined]
        "max_overflow": engine.pool.size(),  # type: ignore[attr-defined]
        "connect_args": {"options": "-c synchronous_commit=off"},
    }
    if on_event_loop(engine):  # the app's: its counters are hit on the event loop too
        return create_async_engine(engine.url, **options).sync_engine
    return sa.create_engine(engine.url, **options)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for a job or command; the caller commits, errors roll back."""
    session = factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Any:
    """The Alembic configuration for this project's migrations, aimed at ``url``.

    The migrations ship inside the package, so that an installed ``direkte db upgrade``
    finds them; ``alembic.ini`` (developers' ``alembic revision``) points at the same folder.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str) -> None:
    """Run every migration up to the newest (a no-op on an up-to-date database)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def database_is_current(engine: Engine) -> bool:
    """Whether the database has every migration applied."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(script.get_heads())
