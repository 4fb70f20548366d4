"""Writing a new case with everything that goes with it, in as few statements as possible.

A new case comes with five rows that name it: the request record, the first message
of its thread, its timeline event, its audit event and its outbox event. On
PostgreSQL all six go in one statement (data-modifying CTEs: the case is inserted
and the others take its id from it), one round trip and one statement's worth of
SQLAlchemy instead of six; SQLite inserts them one by one. Either way they are in
the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from direkte.audit.models import AuditEvent
from direkte.escalations.models import (
    Escalation,
    EscalationEvent,
    EscalationMessage,
    EscalationRequest,
)
from direkte.notifications.models import OutboxEvent

CASES: sa.Table = Escalation.__table__  # type: ignore[assignment]
CASE_COLUMNS = tuple(c.name for c in CASES.columns if c.name != "id")


@dataclass(frozen=True, slots=True)
class _Named:
    """A table whose row names the new case in ``column`` (filled in on insert)."""

    prefix: str
    table: sa.Table
    column: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns if c.name != "id")


_REQUEST = _Named("r_", EscalationRequest.__table__, "escalation_id")  # type: ignore[arg-type]
_MESSAGE = _Named("m_", EscalationMessage.__table__, "escalation_id")  # type: ignore[arg-type]
_EVENT = _Named("e_", EscalationEvent.__table__, "escalation_id")  # type: ignore[arg-type]
_AUDIT = _Named("a_", AuditEvent.__table__, "subject_id")  # type: ignore[arg-type]
_OUTBOX = _Named("o_", OutboxEvent.__table__, "aggregate_id")  # type: ignore[arg-type]
_NAMED = (_REQUEST, _MESSAGE, _EVENT, _AUDIT, _OUTBOX)


@dataclass(frozen=True, slots=True)
class NewCase:
    """The rows of a new case, each without the case's id (which the insert makes).

    The outbox payload gets the id as ``escalation_id``.
    """

    case: dict[str, Any]
    request: dict[str, Any]
    message: dict[str, Any]
    event: dict[str, Any]
    audit: dict[str, Any]
    outbox: dict[str, Any]


def _param(table: sa.Table, prefix: str, column: str) -> sa.BindParameter[Any]:
    return sa.bindparam(prefix + column, type_=table.c[column].type)


@cache
def _one_statement() -> sa.Select[Any]:
    """WITH new_case AS (INSERT ... RETURNING id), r AS (INSERT ... SELECT ..., id FROM
    new_case), ... SELECT id FROM new_case. Built once; PostgreSQL only."""
    new_case = (
        sa.insert(CASES)
        .values({c: _param(CASES, "c_", c) for c in CASE_COLUMNS})
        .returning(CASES.c.id)
        .cte("new_case")
    )
    ctes = []
    for named in _NAMED:
        values: list[sa.ColumnElement[Any]] = []
        for column in named.columns:
            if column == named.column:
                values.append(new_case.c.id)
            elif named is _OUTBOX and column == "payload":
                with_id = sa.cast(_param(named.table, named.prefix, column), JSONB).op("||")(
                    sa.func.jsonb_build_object(sa.literal_column("'escalation_id'"), new_case.c.id)
                )
                values.append(sa.cast(with_id, sa.JSON))
            else:
                values.append(_param(named.table, named.prefix, column))
        select = sa.select(*values).select_from(new_case)
        ctes.append(
            sa.insert(named.table).from_select(named.columns, select).cte(named.prefix + "ins")
        )
    return sa.select(new_case.c.id).add_cte(*ctes)


def insert_new_case(session: Session, rows: NewCase) -> int:
    """Insert the case and its five rows; return the case's id."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        params = {f"c_{c}": rows.case.get(c) for c in CASE_COLUMNS}
        for named, row in zip(_NAMED, _rows(rows), strict=True):
            for column in named.columns:
                if column != named.column:
                    params[named.prefix + column] = row.get(column)
        return int(conn.execute(_one_statement(), params).scalar_one())
    case_id = int(conn.execute(_INSERT_CASE, rows.case).scalar_one())
    for named, row in zip(_NAMED, _rows(rows), strict=True):
        values = {**row, named.column: case_id}
        if named is _OUTBOX:
            values["payload"] = {**row["payload"], "escalation_id": case_id}
        conn.execute(_INSERTS[named.prefix], values)
    return case_id


_INSERT_CASE = sa.insert(CASES).returning(CASES.c.id)
_INSERTS = {named.prefix: sa.insert(named.table) for named in _NAMED}


def _rows(rows: NewCase) -> tuple[dict[str, Any], ...]:
    return (rows.request, rows.message, rows.event, rows.audit, rows.outbox)
