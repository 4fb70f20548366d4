"""The staff inbox: the caller's open cases, most urgent first, with their visit context."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, selectinload

from direkte import access
from direkte.clock import Clock
from direkte.escalations.kernel import visible_cases
from direkte.escalations.models import (
    ACTIVE,
    Category,
    Escalation,
    EscalationStatus,
    Outcome,
)
from direkte.network.models import Center, Role, User
from direkte.visits.models import Diagnosis, Estimate, Vehicle, Visit, WarrantyDecision
from direkte.visits.read import (
    VisitDoc,
    as_text,
    json_list,
    json_nested,
    json_object,
    parse_time,
    read_visits,
)


@dataclass(frozen=True, slots=True)
class EarlierVisit:
    """One of the same customer's earlier visits with the same vehicle."""

    id: int
    center_code: str
    appointment_date: date | None
    concern: str
    status: str


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A case with the visit behind it and the customer's earlier visits (newest first)."""

    case: Escalation
    visit: VisitDoc
    earlier_visits: list[EarlierVisit]


EARLIER_VISITS_SHOWN = 10


def list_inbox(
    session: Session, clock: Clock, *, viewer: User, limit: int, offset: int
) -> list[InboxEntry]:
    """The caller's open cases at their tier: breached first, then by the nearest due time.

    A fixed number of statements whatever the page's size. Raises StaffOnly.
    """
    tier = access.inbox_tier(viewer)
    now = clock.now()
    due = sa.func.coalesce(Escalation.sla_next_due, Escalation.resolution_due)
    breached = sa.case((Escalation.sla_next_due <= now, 0), else_=1)
    query = (
        sa.select(Escalation)
        .where(visible_cases(viewer), Escalation.tier == tier, Escalation.status.in_(ACTIVE))
        .order_by(breached, due.is_(None), due, Escalation.id)
        .offset(offset)
        .limit(limit)
        .options(selectinload(Escalation.assignee))
    )
    cases = list(session.scalars(query))
    visit_ids = sorted({case.visit_id for case in cases})
    if not visit_ids:
        return []
    visits = {doc.id: doc for doc in read_visits(session, Visit.id.in_(visit_ids))}
    earlier = _earlier_visits(session, viewer, visit_ids)
    return [
        InboxEntry(case, visits[case.visit_id], earlier.get(case.visit_id, [])) for case in cases
    ]


def _earlier_visits(
    session: Session, viewer: User, visit_ids: list[int]
) -> dict[int, list[EarlierVisit]]:
    """Per visit, the same customer's earlier visits with the same vehicle that the viewer
    may see, newest first, at most ``EARLIER_VISITS_SHOWN`` each (one statement)."""
    statement = _earlier_statement(viewer.role, viewer.id, viewer.center_id, viewer.region_id)
    found: dict[int, list[EarlierVisit]] = {}
    for row in session.execute(statement, {"visit_ids": visit_ids}):
        found.setdefault(row.visit_id, []).append(
            EarlierVisit(
                row.id, row.center_code, row.appointment_date, row.concern, str(row.status)
            )
        )
    return found


@functools.lru_cache(maxsize=1024)
def _earlier_statement(
    role: Role, user_id: int, center_id: int | None, region_id: int | None
) -> sa.Select[Any]:
    """The earlier-visits statement for one viewer, built once per viewer (building it
    cost more than running it)."""
    viewer = User(role=role, id=user_id, center_id=center_id, region_id=region_id)
    current, earlier = aliased(Visit), aliased(Visit)
    rank = (
        sa.func.row_number().over(partition_by=current.id, order_by=earlier.id.desc()).label("rank")
    )
    ranked = (
        sa.select(
            current.id.label("visit_id"),
            earlier.id,
            Center.code.label("center_code"),
            earlier.appointment_date,
            earlier.concern,
            earlier.status,
            rank,
        )
        .join(
            earlier,
            sa.and_(
                earlier.vehicle_id == current.vehicle_id,
                earlier.customer_id == current.customer_id,
                earlier.id != current.id,
                earlier.created_at <= current.created_at,
            ),
        )
        .join(Center, Center.id == earlier.center_id)
        .where(
            current.id.in_(sa.bindparam("visit_ids", expanding=True)),
            access.owned_filter(
                viewer, customer_id=earlier.customer_id, center_id=earlier.center_id
            ),
        )
        .subquery()
    )
    return (
        sa.select(ranked)
        .where(ranked.c.rank <= EARLIER_VISITS_SHOWN)
        .order_by(ranked.c.visit_id, ranked.c.id.desc())
    )


# ---- The page as the API answers it: plain columns, no ORM objects ----------------------
#
# ``list_inbox`` gives typed entries (ORM cases, whole visit documents) to whoever
# needs the whole visit. The API's page of ~50 cases needs less of each visit and was
# dominated by building those objects (about 9 of its 12 ms), so it reads the cases
# as rows and each visit's context as JSON built by the database, in two statements
# plus the earlier visits'. A test checks the two give the same page.


@dataclass(frozen=True, slots=True)
class PersonRow:
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class CaseRow:
    """An inbox case as plain columns: the attributes the answer reads of an Escalation."""

    id: int
    visit_id: int
    category: Category
    subject_id: int
    reason: str
    status: EscalationStatus
    tier: int
    guardrail: dict[str, Any]
    version: int
    created_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    sla_next_due: datetime | None
    sla_paused_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    outcome: Outcome | None
    amount_delta: Decimal | None
    currency: str
    outcome_note: str | None
    outcome_tier: int | None
    appealed_at: datetime | None
    rejection_reason: str | None
    rating_score: int | None
    rating_comment: str | None
    rated_at: datetime | None
    assignee: PersonRow | None


_CASE_COLUMNS = tuple(f for f in CaseRow.__dataclass_fields__ if f != "assignee")


@dataclass(frozen=True, slots=True)
class ContextDiagnosis:
    revision: int
    findings: str
    codes: list[str]
    safety_related: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ContextEstimate:
    revision: int
    total: Decimal
    currency: str
    approved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContextWarranty:
    id: int
    decision: str
    claimed: Decimal
    covered: Decimal
    currency: str
    reason_code: str | None
    safety_related: bool


@dataclass(frozen=True, slots=True)
class VisitContext:
    """What an inbox item shows of its visit (revisions in revision order)."""

    vin: str
    model: str
    model_year: int | None
    odometer_km: int | None
    delivery_date: date | None
    concern: str
    drivable: bool | None
    diagnoses: list[ContextDiagnosis]
    estimates: list[ContextEstimate]
    warranty_decisions: list[ContextWarranty]


@dataclass(frozen=True, slots=True)
class InboxRow:
    case: CaseRow
    visit: VisitContext
    earlier_visits: list[EarlierVisit]


def read_inbox_page(
    session: Session, clock: Clock, *, viewer: User, limit: int, offset: int
) -> list[InboxRow]:
    """``list_inbox``'s cases and order, with what the API's page shows of each visit.

    Raises StaffOnly.
    """
    tier = access.inbox_tier(viewer)
    statement = _cases_statement(viewer.role, viewer.id, viewer.center_id, viewer.region_id)
    params = {"tier": tier, "now": clock.now(), "limit": limit, "offset": offset}
    cases = [
        CaseRow(
            **{name: row[name] for name in _CASE_COLUMNS},
            assignee=(
                PersonRow(row["assignee_name"], row["assignee_role"])
                if row["assignee_name"] is not None
                else None
            ),
        )
        for row in session.execute(statement, params).mappings()
    ]
    visit_ids = sorted({case.visit_id for case in cases})
    if not visit_ids:
        return []
    pg = session.get_bind().dialect.name == "postgresql"
    contexts = {
        row.id: _context(row)
        for row in session.execute(_context_statement(pg), {"visit_ids": visit_ids})
    }
    earlier = _earlier_visits(session, viewer, visit_ids)
    return [
        InboxRow(case, contexts[case.visit_id], earlier.get(case.visit_id, [])) for case in cases
    ]


@functools.lru_cache(maxsize=1024)
def _cases_statement(
    role: Role, user_id: int, center_id: int | None, region_id: int | None
) -> sa.Select[Any]:
    """``list_inbox``'s query as columns, built once per viewer."""
    viewer = User(role=role, id=user_id, center_id=center_id, region_id=region_id)
    now = sa.bindparam("now", type_=Escalation.sla_next_due.type)
    due = sa.func.coalesce(Escalation.sla_next_due, Escalation.resolution_due)
    breached = sa.case((Escalation.sla_next_due <= now, 0), else_=1)
    assignee = aliased(User)
    return (
        sa.select(
            *(getattr(Escalation, name) for name in _CASE_COLUMNS),
            assignee.name.label("assignee_name"),
            assignee.role.label("assignee_role"),
        )
        .outerjoin(assignee, assignee.id == Escalation.assignee_id)
        .where(
            visible_cases(viewer),
            Escalation.tier == sa.bindparam("tier"),
            Escalation.status.in_(ACTIVE),
        )
        .order_by(breached, due.is_(None), due, Escalation.id)
        .offset(sa.bindparam("offset"))
        .limit(sa.bindparam("limit"))
    )


@functools.lru_cache(maxsize=2)
def _context_statement(pg: bool) -> sa.Select[Any]:
    """Each visit's context in one row, its revisions as JSON arrays (built once)."""

    def revisions(model: Any, fields: dict[str, Any]) -> Any:
        return json_list(
            pg, json_object(pg, fields), where=model.visit_id == Visit.id, order_by=model.seq
        )

    return (
        sa.select(
            Visit.id,
            Visit.concern,
            Visit.drivable,
            Vehicle.vin,
            Vehicle.model,
            Vehicle.model_year,
            Vehicle.odometer_km,
            Vehicle.delivery_date,
            revisions(
                Diagnosis,
                {
                    "revision": Diagnosis.seq,
                    "findings": Diagnosis.findings,
                    "codes": json_nested(pg, Diagnosis.codes),
                    "safety_related": Diagnosis.safety_related,
                    "created_at": Diagnosis.created_at,
                },
            ).label("diagnoses"),
            revisions(
                Estimate,
                {
                    "revision": Estimate.seq,
                    "total": as_text(Estimate.total),
                    "currency": Estimate.currency,
                    "approved_at": Estimate.approved_at,
                },
            ).label("estimates"),
            revisions(
                WarrantyDecision,
                {
                    "revision": WarrantyDecision.seq,
                    "id": WarrantyDecision.id,
                    "decision": WarrantyDecision.decision,
                    "claimed": as_text(WarrantyDecision.claimed),
                    "covered": as_text(WarrantyDecision.covered),
                    "currency": WarrantyDecision.currency,
                    "reason_code": WarrantyDecision.reason_code,
                    "safety_related": WarrantyDecision.safety_related,
                },
            ).label("warranty_decisions"),
        )
        .join(Vehicle, Vehicle.id == Visit.vehicle_id)
        .where(Visit.id.in_(sa.bindparam("visit_ids", expanding=True)))
    )


def _json(value: Any) -> list[dict[str, Any]]:
    """A revision list from either database (SQLite: text, unordered)."""
    items: list[dict[str, Any]] = orjson.loads(value) if isinstance(value, str) else value
    items.sort(key=lambda item: item["revision"])
    return items


def _context(row: Any) -> VisitContext:
    return VisitContext(
        vin=row.vin,
        model=row.model,
        model_year=row.model_year,
        odometer_km=row.odometer_km,
        delivery_date=row.delivery_date,
        concern=row.concern,
        drivable=row.drivable,
        diagnoses=[
            ContextDiagnosis(
                revision=d["revision"],
                findings=d["findings"],
                codes=list(d["codes"] or []),
                safety_related=bool(d["safety_related"]),
                created_at=_time(d["created_at"]),
            )
            for d in _json(row.diagnoses)
        ],
        estimates=[
            ContextEstimate(
                revision=e["revision"],
                total=Decimal(e["total"]),
                currency=e["currency"],
                approved_at=parse_time(e["approved_at"]),
            )
            for e in _json(row.estimates)
        ],
        warranty_decisions=[
            ContextWarranty(
                id=w["id"],
                decision=w["decision"],
                claimed=Decimal(w["claimed"]),
                covered=Decimal(w["covered"]),
                currency=w["currency"],
                reason_code=w["reason_code"],
                safety_related=bool(w["safety_related"]),
            )
            for w in _json(row.warranty_decisions)
        ],
    )


def _time(value: str | datetime) -> datetime:
    parsed = parse_time(value)
    assert parsed is not None
    return parsed
