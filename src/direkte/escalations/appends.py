"""Writing a new case with everything that goes with it, in as few statements as possible.

A new case comes with five rows that name it: the request record, the first message
of its thread, its timeline event, its audit event and its outbox event; and with
the daily figures' dirty mark of its center at its time (``direkte.marks``). On
PostgreSQL all seven go in one statement (data-modifying CTEs: the case is inserted
and the others take its id, center and time from it), one round trip and one
statement sent straight through psycopg (direkte.direct) instead of seven through
SQLAlchemy; SQLite inserts them one by one.
Either way they are in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from direkte import direct
from direkte.audit.models import AuditEvent
from direkte.escalations.models import (
    Escalation,
    EscalationEvent,
    EscalationMessage,
    EscalationRequest,
)
from direkte.marks import FigureDirtyMark, mark_dirty
from direkte.notifications.models import OutboxEvent

CASES: sa.Table = Escalation.__table__  # type: ignore[assignment]


def _set_columns(table: sa.Table, *, skip: frozenset[str]) -> tuple[str, ...]:
    """The table's columns in table order, but its primary key and ``skip``."""
    return tuple(c.name for c in table.c if not c.primary_key and c.name not in skip)


# What a new case leaves NULL (outcome, rating, appeal, ...); it sets every other column.
# Read from the table, so a new column is written here at once (and the test of the
# new case's rows fails until the opening sets it, or names it here).
CASE_STARTS_NULL = frozenset(
    {
        "first_response_at",
        "sla_paused_at",
        "breached_at",
        "resolved_at",
        "closed_at",
        "outcome",
        "amount_delta",
        "outcome_note",
        "outcome_tier",
        "appealed_at",
        "appeal_reason",
        "rejection_reason",
        "rating_score",
        "rating_comment",
        "rated_at",
        # kept by a PostgreSQL trigger from ``guardrail`` (escalations/inbox_lists.py)
        "guardrail_shown",
    }
)
CASE_COLUMNS = _set_columns(CASES, skip=CASE_STARTS_NULL)


@dataclass(frozen=True, slots=True)
class _Named:
    """A table whose row names the new case, and the values it takes from the case.

    ``from_case`` maps a column to the case's column it equals (``id`` for the column
    that names the case); the row's other columns are bound parameters.
    """

    prefix: str
    table: sa.Table
    from_case: dict[str, str]
    columns: tuple[str, ...]  # every column the row sets


def _named(
    prefix: str, model: Any, from_case: dict[str, str], starts_null: frozenset[str] = frozenset()
) -> _Named:
    """The row's columns from the table: those taken from the case, then its own (every
    other column but the primary key and ``starts_null``)."""
    own = _set_columns(model.__table__, skip=starts_null | frozenset(from_case))
    return _Named(prefix, model.__table__, from_case, (*from_case, *own))


_REQUEST = _named(
    "r",
    EscalationRequest,
    {
        "escalation_id": "id",
        "created_at": "created_at",
        "visit_id": "visit_id",
        "customer_id": "customer_id",
        "center_id": "center_id",
        "category": "category",
        "subject_id": "subject_id",
        "reason": "reason",
        "result": "guardrail",
    },
)
_MESSAGE = _named(
    "m",
    EscalationMessage,
    {
        "escalation_id": "id",
        "author_id": "customer_id",
        "body": "reason",
        "created_at": "created_at",
    },
    frozenset({"called_at", "duration_seconds"}),
)
_EVENT = _named(
    "e",
    EscalationEvent,
    {"escalation_id": "id", "at": "created_at"},
)
_AUDIT = _named(
    "a",
    AuditEvent,
    {"subject_id": "id", "occurred_at": "created_at", "visit_id": "visit_id"},
)
_OUTBOX = _named(
    "o",
    OutboxEvent,
    {"aggregate_id": "id", "created_at": "created_at"},
    frozenset({"delivered_at", "next_attempt_at", "parked_at", "last_error"}),
)
_NAMED = (_REQUEST, _MESSAGE, _EVENT, _AUDIT, _OUTBOX)


@dataclass(frozen=True, slots=True)
class NewCase:
    """The rows of a new case, each without the case's id (which the insert makes).

    The outbox payload gets the id as ``escalation_id`` (on PostgreSQL through
    ``jsonb``, so its keys are stored in jsonb's order; the values are the same).
    Values a row shares with the case (its visit, customer, time, reason, guardrail)
    must equal the case's.
    """

    case: dict[str, Any]
    request: dict[str, Any]
    message: dict[str, Any]
    event: dict[str, Any]
    audit: dict[str, Any]
    outbox: dict[str, Any]


def _param(table: sa.Table, name: str, column: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=table.c[column].type)


@cache
def _one_statement() -> sa.Select[Any]:
    """WITH new_case AS (INSERT ... RETURNING ...), r AS (INSERT ... SELECT ... FROM
    new_case), ... SELECT id FROM new_case. Built once; PostgreSQL only.

    Under 50 parameters and 4 KB of SQL, so that psycopg keeps the statement parsed
    and prepared (over either, it parses the text again on every execution: about
    0.6 ms). Hence only the columns a new case sets, and every value shared with the
    case read from it.
    """
    new_case = (
        sa.insert(CASES)
        .values({c: _param(CASES, f"c{i}", c) for i, c in enumerate(CASE_COLUMNS)})
        .returning(CASES.c.id, *(CASES.c[c] for c in CASE_COLUMNS))
        .cte("new_case")
    )
    ctes = []
    for named in _NAMED:
        values: list[sa.ColumnElement[Any]] = []
        for i, column in enumerate(named.columns):
            if column in named.from_case:
                values.append(new_case.c[named.from_case[column]])
            elif named is _OUTBOX and column == "payload":
                with_id = sa.cast(_param(named.table, f"{named.prefix}{i}", column), JSONB).op(
                    "||"
                )(sa.func.jsonb_build_object(sa.literal_column("'escalation_id'"), new_case.c.id))
                values.append(sa.cast(with_id, sa.JSON))
            else:
                values.append(_param(named.table, f"{named.prefix}{i}", column))
        select = sa.select(*values).select_from(new_case)
        ctes.append(sa.insert(named.table).from_select(named.columns, select).cte(named.prefix))
    mark = sa.insert(FigureDirtyMark).from_select(
        ("center_id", "at"), sa.select(new_case.c.center_id, new_case.c.created_at)
    )
    return sa.select(new_case.c.id).add_cte(*ctes, mark.cte("d"))


@cache
def _direct_statement() -> direct.Select:
    """``_one_statement`` run straight through psycopg (direkte.direct: about 60 us of
    CPU less than through SQLAlchemy for its 45 parameters)."""
    return direct.Select(_one_statement())


def check_new_case(rows: NewCase) -> None:
    """Raise ValueError for rows that set more than a new case does, or disagree with the
    case: the two databases must write the same rows. Run by the tests on the rows the
    opening makes (tests/escalations/test_flow.py), not on every request."""
    unknown = {k for k, v in rows.case.items() if k not in CASE_COLUMNS and v is not None}
    if unknown:
        raise ValueError(f"a new case does not set {sorted(unknown)}")
    if rows.case.get("version") is None:
        raise ValueError("a new case needs its version")
    for named, row in zip(_NAMED, _rows(rows), strict=True):
        extra = {k for k, v in row.items() if k not in named.columns and v is not None}
        if extra:
            raise ValueError(f"{named.table.name} rows of a new case do not set {sorted(extra)}")
        missing = {c for c in named.columns if c not in named.from_case and c not in row}
        if missing:
            raise ValueError(f"{named.table.name} rows of a new case lack {sorted(missing)}")
        for column, case_column in named.from_case.items():
            if case_column != "id" and row.get(column) != rows.case.get(case_column):
                raise ValueError(f"{named.table.name}.{column} differs from the case's")


def insert_new_case(session: Session, rows: NewCase) -> int:
    """Insert the case, its five rows and its dirty mark; return the case's id.

    The rows are as ``check_new_case`` accepts; the opening's are, by test.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        params = {f"c{i}": rows.case.get(c) for i, c in enumerate(CASE_COLUMNS)}
        for named, row in zip(_NAMED, _rows(rows), strict=True):
            for i, column in enumerate(named.columns):
                if column not in named.from_case:
                    params[f"{named.prefix}{i}"] = row.get(column)
        if direct.supported(session):
            return int(_direct_statement().rows(session, params)[0][0])
        return int(conn.execute(_one_statement(), params).scalar_one())
    case_id = int(conn.execute(_INSERT_CASE, rows.case).scalar_one())
    for named, row in zip(_NAMED, _rows(rows), strict=True):
        values = {**row, next(c for c, v in named.from_case.items() if v == "id"): case_id}
        if named is _OUTBOX:
            values["payload"] = {**row["payload"], "escalation_id": case_id}
        conn.execute(_INSERTS[named.prefix], values)
    mark_dirty(session, rows.case["center_id"], [rows.case["created_at"]])
    return case_id


_INSERT_CASE = sa.insert(CASES).returning(CASES.c.id)
_INSERTS = {named.prefix: sa.insert(named.table) for named in _NAMED}


def _rows(rows: NewCase) -> tuple[dict[str, Any], ...]:
    return (rows.request, rows.message, rows.event, rows.audit, rows.outbox)
