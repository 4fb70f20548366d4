"""Hot reads straight through psycopg, several in one round trip.

A request's first reads (its caller's user row; an escalation create's visit, managers,
subject and history) cost more in SQLAlchemy's execution machinery and the ORM's row
loading than in PostgreSQL: about 80 us of CPU for a Core statement and 140 us for an
ORM entity, against 50 us for the same statement prepared in psycopg alone, and 35 us
each for several in one psycopg pipeline (one round trip; docs/performance.md, "The
create's reads in one round trip"). ``Select`` keeps a Core select as it is written
(the same statement the other databases run through SQLAlchemy), compiles it once for
the connection's dialect and runs it as a prepared statement on the session's own
connection, in its transaction; ``pipeline`` sends several in one round trip, each
statement with its own snapshot as if sent one by one (READ COMMITTED). Rows come back
as named tuples, each value converted by its column's own SQLAlchemy type, exactly what the
ORM or Core would have given. ``attach`` makes an ORM object of a row, persistent in
the session as if the ORM had loaded it.

PostgreSQL only (``supported``); callers keep their SQLAlchemy path for SQLite.
docs/architecture.md names the modules allowed to use it.
"""

from __future__ import annotations

import inspect
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, NoReturn, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state, manager_of_class
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import _anonymous_label
from sqlalchemy.sql.visitors import replacement_traverse
from sqlalchemy.util import await_only

T = TypeVar("T")
_Processor = Callable[[Any], Any] | None
# A select, or an insert, update or delete with RETURNING.
_Statement = sa.Select[Any] | sa.CompoundSelect[Any] | sa.UpdateBase


def supported(session: Session | sa.Connection) -> bool:
    """Whether the database is PostgreSQL through psycopg, where these statements run."""
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"


# Values written into the SQL when a statement holds them as constants.
_INLINE_TYPES = (str, int, bool)


def _constant(element: Any) -> bool:
    """An anonymous bound parameter that holds a plain constant (``status.in_(ACTIVE)``,
    ``role == Role.local_manager``): its value is the statement's own, no caller names
    it."""
    if not isinstance(element, sa.BindParameter) or element.callable is not None:
        return False
    if not isinstance(element.key, _anonymous_label) or element.required:
        return False
    value = element.value
    values = value if element.expanding and isinstance(value, (list, tuple)) else [value]
    # (SQLAlchemy's literal rendering doubles a "%" for psycopg's placeholders)
    return bool(values) and all(isinstance(v, _INLINE_TYPES) for v in values)


def _with_constants_inline(statement: _Statement) -> _Statement:
    """The statement with its constants written into the SQL, not sent as parameters.

    PostgreSQL plans a prepared statement for the values it is given, again at every
    run, as long as that plan looks cheaper than one for any values: with a status list
    and two roles as parameters, the managers' read was planned afresh at each of 951
    of 983 runs, 0.38 ms of the database's CPU a create (pg_stat_statements). With the
    constants in the SQL, the plan for any values is as good, and it keeps that one
    after five runs."""

    def inline(element: Any, **_: Any) -> Any:
        return element.render_literal_execute() if _constant(element) else None

    return replacement_traverse(statement, {}, inline)  # type: ignore[return-value]


class _Compiled:
    """A statement compiled for one dialect: its SQL, its parameters' defaults and
    converters, and each result column's converter."""

    __slots__ = ("binds", "defaults", "dialect", "required", "results", "row", "selected", "sql")

    def __init__(self, statement: _Statement, dialect: Dialect) -> None:
        compiled = _with_constants_inline(statement).compile(dialect=dialect)
        # An IN list is spelled out once, with the values the statement holds (a list
        # given per call is not supported: its length would change the SQL).
        state = compiled.construct_expanded_state(compiled.construct_params(_check=False))
        self.sql = state.statement
        self.defaults = dict(state.parameters)
        # A value every call must give (as SQLAlchemy requires it), by its name.
        self.required = {
            name
            for bind, name in compiled.bind_names.items()
            if bind.required and not bind.expanding
        }
        processors: dict[str, Any] = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        processors.update(state.processors or {})
        self.binds: list[tuple[str, Callable[[Any], Any]]] = []
        for name in self.defaults:
            processor = processors.get(name)
            if processor is not None:
                self.binds.append((name, processor))
        self.selected = list(statement.exported_columns)
        # Each column's converter needs the type the server reports (a numeric's, say):
        # set from the first execution's description.
        self.results: list[_Processor] | None = None
        self.dialect = dialect
        # Rows read by name as SQLAlchemy's are (a name twice is renamed: read by place).
        names = [c.key or f"_{i}" for i, c in enumerate(self.selected)]
        self.row: Any = namedtuple("Row", names, rename=True)  # type: ignore[misc]

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        missing = self.required.difference(values)
        if missing:
            raise sa.exc.InvalidRequestError(f"a value is required for {sorted(missing)}")
        params = {name: values.get(name, default) for name, default in self.defaults.items()}
        for name, processor in self.binds:
            value = params.get(name)
            if value is not None:
                params[name] = processor(value)
        return params

    def convert(self, rows: Sequence[Sequence[Any]], cursor: Any) -> list[Any]:
        results = self.results
        if results is None:  # the first execution (a cursor builds its description anew)
            description = cursor.description
            types = (
                [d.type_code for d in description] if description else [None] * len(self.selected)
            )
            results = self.results = [
                column.type.dialect_impl(self.dialect).result_processor(self.dialect, code)
                for column, code in zip(self.selected, types, strict=True)
            ]
        make = self.row._make
        if not any(results):
            return [make(row) for row in rows]
        return [
            make(
                value if processor is None or value is None else processor(value)
                for processor, value in zip(results, row, strict=True)
            )
            for row in rows
        ]


class Select:
    """A Core select (or a DML statement's RETURNING rows) run straight through psycopg
    (module docstring)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: _Statement) -> None:
        self.statement = statement
        self._compiled: dict[type[Dialect], _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """Compiled once per kind of dialect (its SQL and converters)."""
        compiled = self._compiled.get(type(dialect))
        if compiled is None:
            compiled = self._compiled[type(dialect)] = _Compiled(self.statement, dialect)
        return compiled

    def rows(
        self,
        session: Session | sa.Connection,
        params: Mapping[str, Any],
        *,
        prepare: bool | None = True,
    ) -> list[Any]:
        """The statement's rows, in the session's (or connection's) transaction."""
        return pipeline(session, [(self, params)], prepare=prepare)[0]


# A statement to run: compiled, its values, whether to prepare it.
_Work = list[tuple[_Compiled, Mapping[str, Any], bool | None]]


def pipeline(
    session: Session | sa.Connection,
    statements: Sequence[tuple[Select, Mapping[str, Any]]],
    *,
    prepare: bool | None = True,
) -> list[list[Any]]:
    """Run the statements in order in one round trip (one alone needs no pipeline), in
    the session's transaction; each one's rows, converted.

    ``prepare``: each statement prepared at its first run on a connection (True), or
    only once psycopg's threshold of runs is reached (None): for statements of requests
    that may end in ROLLBACK, after which psycopg deallocates every prepared statement of
    the connection (one round trip more, and the next run prepares again)."""
    connection = session.connection() if isinstance(session, Session) else session
    if not connection.in_transaction():  # as its own statement would (autobegin), so
        connection.begin()  # that its commit and rollback reach the driver
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    assert driver is not None
    work = [(s.compiled(dialect), p, prepare) for s, p in statements]
    try:
        if inspect.iscoroutinefunction(driver.execute):
            fetched = await_only(_run_async(driver, work))
        else:
            fetched = _run(driver, work)
    except BaseException as error:  # as SQLAlchemy handles its own statements
        _raise_as_sqlalchemy(connection, error, work)
    return [c.convert(rows, d) for (c, _, _), (rows, d) in zip(work, fetched, strict=True)]


def _raise_as_sqlalchemy(connection: sa.Connection, error: BaseException, work: _Work) -> NoReturn:
    """Raise an error of the driver's work as SQLAlchemy raises one of its own statements,
    by its own handling (``Connection._handle_dbapi_exception``): a driver error wrapped
    (``DBAPIError`` and its kinds, which the app maps and logs without the values or
    PostgreSQL's ``DETAIL``), the ``handle_error`` events run, on a disconnect every
    connection of the pool as old as this one invalidated, and on an exit (a cancelled
    request) this connection invalidated; anything else raised as it is."""
    if len(work) == 1:
        sql = work[0][0].sql
    else:  # each statement's first line: the error is one of theirs
        sql = "pipeline: " + " | ".join(c.sql.split("\n", 1)[0][:80] for c, _, _ in work)
    connection._handle_dbapi_exception(error, sql, None, None, None)


def _run(driver: Any, work: _Work) -> list[Any]:
    if len(work) == 1:
        compiled, params, prepare = work[0]
        cursor = driver.execute(compiled.sql, compiled.params(params), prepare=prepare)
        return [(cursor.fetchall(), cursor)]
    with driver.pipeline():
        cursors = [driver.execute(c.sql, c.params(p), prepare=prep) for c, p, prep in work]
    return [(cursor.fetchall(), cursor) for cursor in cursors]


async def _run_async(driver: Any, work: _Work) -> list[Any]:
    if len(work) == 1:
        compiled, params, prepare = work[0]
        cursor = await driver.execute(compiled.sql, compiled.params(params), prepare=prepare)
        return [(await cursor.fetchall(), cursor)]
    async with driver.pipeline():
        cursors = [await driver.execute(c.sql, c.params(p), prepare=prep) for c, p, prep in work]
    return [(await cursor.fetchall(), cursor) for cursor in cursors]


def attach(session: Session, entity: type[T], names: Sequence[str], values: Sequence[Any]) -> T:
    """The ORM object of a row (``names``: its attributes, the primary key's among them),
    persistent in the session as if the ORM had loaded it; the attributes not named are
    expired (the first use of any of them loads them all in one SELECT), and its
    relationships load on first use. An object the session
    already holds is returned as it is, as the ORM does.

    Made as SQLAlchemy's own loader makes an object from a row (``orm.loading``: a new
    instance of the class manager, its dict filled, its identity key set, added to the
    identity map, the columns not read marked expired), not by the constructor and
    ``session.add``: those fired an attribute event per value, worked the identity key
    out again from the state and walked the save-update cascade, about 0.1 ms an object
    under load (5 % of an escalation create's CPU, which attaches three)."""
    row = dict(zip(names, values, strict=True))
    key = identity_key(entity, tuple(row[name] for name in _primary_key(entity)))  # type: ignore[arg-type]
    identity_map = session.identity_map
    held: T | None = identity_map.get(key)
    if held is not None:
        return held
    manager = manager_of_class(entity)
    instance: T = manager.new_instance()
    state = instance_state(instance)
    state.dict.update(row)
    state.key = key
    state.identity_token = None
    state.expired_attributes.update(_unread(entity, tuple(names)))  # type: ignore[arg-type]
    state.session_id = session.hash_key
    identity_map._add_unpresent(state, key)
    return instance


@cache
def _unread(entity: type[Any], names: tuple[str, ...]) -> frozenset[str]:
    """The column attributes of ``entity`` not among ``names``: expired on an attached
    object, so that the first use of one loads them (relationships load by their own
    loaders)."""
    return frozenset(c.key for c in sa.inspect(entity).column_attrs if c.key not in names)


@cache
def _primary_key(entity: type[Any]) -> tuple[str, ...]:
    mapper = sa.inspect(entity)
    return tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
