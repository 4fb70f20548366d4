"""The visit as read: one statement per page of visits, revisions aggregated as JSON.

The read side is the hot path (every app open), so instead of loading ORM
objects collection by collection it asks the database for each visit's
revisions as JSON in the same row, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from direkte import access
from direkte.network.models import Center, Program, Region, Role, User
from direkte.visits.errors import VisitNotFound
from direkte.visits.models import (
    Diagnosis,
    Estimate,
    EstimateLine,
    Vehicle,
    Visit,
    VisitStatus,
    VisitStatusChange,
    WarrantyCoverage,
    WarrantyDecision,
)


def _obj(pg: bool, fields: dict[str, Any]) -> ColumnElement[Any]:
    args: list[Any] = []
    for key, value in fields.items():
        args += [sa.literal(key), value]
    return sa.func.json_build_object(*args) if pg else sa.func.json_object(*args)


def _list(pg: bool, item: ColumnElement[Any], *, where: Any, order_by: Any) -> Any:
    """A correlated JSON array of ``item`` (``[]`` when there are none)."""
    if pg:
        agg: Any = sa.func.coalesce(
            sa.func.json_agg(aggregate_order_by(item, order_by)), sa.text("'[]'::json")
        )
        return sa.select(agg).where(where).scalar_subquery()
    # SQLite has no ordered aggregate here; _doc sorts each list by its key instead.
    return sa.select(sa.func.json_group_array(sa.func.json(item))).where(where).scalar_subquery()


def _nested(pg: bool, value: Any) -> Any:
    """JSON from a subquery or a JSON column, kept as JSON (SQLite loses its JSON subtype)."""
    return value if pg else sa.func.json(value)


def _text(column: Any) -> Any:
    return sa.cast(column, sa.Text)


@lru_cache(maxsize=2)
def visit_documents(pg: bool) -> Any:
    """Visits with center, vehicle and every revision list, one row per visit (built once).

    Long because it is one statement: each revision list is a correlated JSON
    aggregate beside the visit's columns, so a page of visits is one round trip.
    """
    lines = _list(
        pg,
        _obj(
            pg,
            {
                "position": EstimateLine.position,
                "kind": EstimateLine.kind,
                "description": EstimateLine.description,
                "quantity": _text(EstimateLine.quantity),
                "unit_price": _text(EstimateLine.unit_price),
                "amount": _text(EstimateLine.amount),
            },
        ),
        where=EstimateLine.estimate_id == Estimate.id,
        order_by=EstimateLine.position,
    )
    return (
        sa.select(
            Visit.id,
            Visit.external_id,
            Visit.status,
            Visit.concern,
            Visit.currency,
            Visit.drivable,
            Visit.booked_at,
            Visit.appointment_date,
            Visit.checked_in_at,
            Visit.promised_at,
            Visit.closed_at,
            Visit.center_id,
            Center.code.label("center_code"),
            Center.name.label("center_name"),
            Center.time_zone,
            Center.country,
            Center.program,
            Center.business_hours,
            Center.closed_dates,
            Center.region_id,
            Vehicle.vin,
            Vehicle.model,
            Vehicle.model_year,
            Vehicle.odometer_km,
            Vehicle.delivery_date,
            _list(
                pg,
                _obj(
                    pg,
                    {
                        "kind": WarrantyCoverage.kind,
                        "years": WarrantyCoverage.years,
                        "distance_km": WarrantyCoverage.distance_km,
                    },
                ),
                where=WarrantyCoverage.vehicle_id == Vehicle.id,
                order_by=WarrantyCoverage.kind,
            ).label("coverages"),
            _list(
                pg,
                _obj(
                    pg,
                    {
                        "id": VisitStatusChange.id,
                        "from_status": VisitStatusChange.from_status,
                        "to_status": VisitStatusChange.to_status,
                        "changed_at": VisitStatusChange.changed_at,
                    },
                ),
                where=VisitStatusChange.visit_id == Visit.id,
                order_by=VisitStatusChange.id,
            ).label("status_history"),
            _list(
                pg,
                _obj(
                    pg,
                    {
                        "id": Diagnosis.id,
                        "revision": Diagnosis.seq,
                        "findings": Diagnosis.findings,
                        "codes": _nested(pg, Diagnosis.codes),
                        "safety_related": Diagnosis.safety_related,
                        "author": Diagnosis.author,
                        "created_at": Diagnosis.created_at,
                    },
                ),
                where=Diagnosis.visit_id == Visit.id,
                order_by=Diagnosis.seq,
            ).label("diagnoses"),
            _list(
                pg,
                _obj(
                    pg,
                    {
                        "id": Estimate.id,
                        "revision": Estimate.seq,
                        "currency": Estimate.currency,
                        "total": _text(Estimate.total),
                        "reason": Estimate.reason,
                        "author": Estimate.author,
                        "created_at": Estimate.created_at,
                        "approved_at": Estimate.approved_at,
                        "lines": _nested(pg, lines),
                    },
                ),
                where=Estimate.visit_id == Visit.id,
                order_by=Estimate.seq,
            ).label("estimates"),
            _list(
                pg,
                _obj(
                    pg,
                    {
                        "id": WarrantyDecision.id,
                        "revision": WarrantyDecision.seq,
                        "decision": WarrantyDecision.decision,
                        "currency": WarrantyDecision.currency,
                        "claimed": _text(WarrantyDecision.claimed),
                        "covered": _text(WarrantyDecision.covered),
                        "reason_code": WarrantyDecision.reason_code,
                        "safety_related": WarrantyDecision.safety_related,
                        "estimate_id": WarrantyDecision.estimate_id,
                        "author": WarrantyDecision.author,
                        "created_at": WarrantyDecision.created_at,
                    },
                ),
                where=WarrantyDecision.visit_id == Visit.id,
                order_by=WarrantyDecision.seq,
            ).label("warranty_decisions"),
            sa.select(Region.code)
            .where(Region.id == Center.region_id)
            .scalar_subquery()
            .label("region_code"),
        )
        .join(Center, Center.id == Visit.center_id)
        .join(Vehicle, Vehicle.id == Visit.vehicle_id)
    )


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def parse_time(value: str | datetime | None) -> datetime | None:
    """A time from either database's JSON: ISO with offset (PostgreSQL) or naive UTC (SQLite)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class CoverageDoc:
    kind: str
    years: int
    distance_km: int


@dataclass(frozen=True, slots=True)
class StatusChangeDoc:
    from_status: VisitStatus | None
    to_status: VisitStatus
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class DiagnosisDoc:
    id: int
    revision: int
    findings: str
    codes: list[str]
    safety_related: bool
    author: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EstimateLineDoc:
    position: int
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class EstimateDoc:
    id: int
    revision: int
    currency: str
    total: Decimal
    reason: str | None
    author: str | None
    created_at: datetime
    approved_at: datetime | None
    lines: list[EstimateLineDoc]


@dataclass(frozen=True, slots=True)
class WarrantyDecisionDoc:
    id: int
    revision: int
    decision: str
    currency: str
    claimed: Decimal
    covered: Decimal
    reason_code: str | None
    safety_related: bool
    estimate_id: int | None
    author: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class VisitDoc:
    """A visit as read, with its center, vehicle and revisions: everything its API form
    and its contacts need, typed (the read model of the visit aggregate)."""

    id: int
    external_id: str
    status: VisitStatus
    concern: str
    currency: str
    drivable: bool
    booked_at: datetime | None
    appointment_date: date | None
    checked_in_at: datetime | None
    promised_at: datetime | None
    closed_at: datetime | None
    center_id: int
    center_code: str
    center_name: str
    time_zone: str
    country: str
    program: Program
    business_hours: dict[str, list[str]]
    closed_dates: list[str]
    region_id: int
    region_code: str
    vin: str
    model: str
    model_year: int | None
    odometer_km: int | None
    delivery_date: date | None
    coverages: list[CoverageDoc]
    status_history: list[StatusChangeDoc]
    diagnoses: list[DiagnosisDoc]
    estimates: list[EstimateDoc]
    warranty_decisions: list[WarrantyDecisionDoc]


def _sorted(value: Any, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _loads(value)
    items.sort(key=lambda item: item[key])
    return items


def _time(value: str | datetime) -> datetime:
    parsed = parse_time(value)
    assert parsed is not None
    return parsed


def _estimate(e: dict[str, Any]) -> EstimateDoc:
    return EstimateDoc(
        id=e["id"],
        revision=e["revision"],
        currency=e["currency"],
        total=Decimal(e["total"]),
        reason=e["reason"],
        author=e["author"],
        created_at=_time(e["created_at"]),
        approved_at=parse_time(e["approved_at"]),
        lines=[
            EstimateLineDoc(
                position=ln["position"],
                kind=ln["kind"],
                description=ln["description"],
                quantity=Decimal(ln["quantity"]),
                unit_price=Decimal(ln["unit_price"]),
                amount=Decimal(ln["amount"]),
            )
            for ln in _sorted(e["lines"], "position")
        ],
    )


def _warranty(w: dict[str, Any]) -> WarrantyDecisionDoc:
    return WarrantyDecisionDoc(
        id=w["id"],
        revision=w["revision"],
        decision=w["decision"],
        currency=w["currency"],
        claimed=Decimal(w["claimed"]),
        covered=Decimal(w["covered"]),
        reason_code=w["reason_code"],
        safety_related=bool(w["safety_related"]),
        estimate_id=w["estimate_id"],
        author=w["author"],
        created_at=_time(w["created_at"]),
    )


def _revisions(row: Any) -> dict[str, Any]:
    return {
        "coverages": [CoverageDoc(**c) for c in _sorted(row.coverages, "kind")],
        "status_history": [
            StatusChangeDoc(
                VisitStatus(c["from_status"]) if c["from_status"] else None,
                VisitStatus(c["to_status"]),
                _time(c["changed_at"]),
            )
            for c in _sorted(row.status_history, "id")
        ],
        "diagnoses": [
            DiagnosisDoc(
                id=d["id"],
                revision=d["revision"],
                findings=d["findings"],
                codes=list(d["codes"] or []),
                safety_related=bool(d["safety_related"]),
                author=d["author"],
                created_at=_time(d["created_at"]),
            )
            for d in _sorted(row.diagnoses, "revision")
        ],
        "estimates": [_estimate(e) for e in _sorted(row.estimates, "revision")],
        "warranty_decisions": [_warranty(w) for w in _sorted(row.warranty_decisions, "revision")],
    }


_ROW_FIELDS = (
    "id",
    "external_id",
    "status",
    "concern",
    "currency",
    "drivable",
    "booked_at",
    "appointment_date",
    "checked_in_at",
    "promised_at",
    "closed_at",
    "center_id",
    "center_code",
    "center_name",
    "time_zone",
    "country",
    "program",
    "business_hours",
    "closed_dates",
    "region_id",
    "region_code",
    "vin",
    "model",
    "model_year",
    "odometer_km",
    "delivery_date",
)


def _doc(row: Any) -> VisitDoc:
    mapping = row._mapping
    return VisitDoc(**{name: mapping[name] for name in _ROW_FIELDS}, **_revisions(row))


def read_visits(
    session: Session, where: Any, *, order_by: Any = None, limit: int | None = None
) -> list[VisitDoc]:
    """The visits matching ``where`` as documents (one statement)."""
    pg = session.get_bind().dialect.name == "postgresql"
    query = visit_documents(pg).where(where)
    if order_by is not None:
        query = query.order_by(order_by)
    if limit is not None:
        query = query.limit(limit)
    return [_doc(row) for row in session.execute(query)]


def read_visit(session: Session, visit_id: int, *, viewer: User) -> VisitDoc | None:
    """The visit as a document, if the viewer may see it (one statement)."""
    pg = session.get_bind().dialect.name == "postgresql"
    params = {"visit_id": visit_id, "viewer_scope": access.owned_scope(viewer)}
    row = session.execute(_visit_for(pg, viewer.role), params).first()
    return None if row is None else _doc(row)


@lru_cache(maxsize=16)
def _visit_for(pg: bool, role: Role) -> Any:
    """One visit by id, visible to a viewer of ``role``, with bound parameters
    ``visit_id`` and ``viewer_scope``: built once per role, so that SQLAlchemy
    computes the long statement's cache key once. Built per request (as
    ``read_visits`` does), the key took about 10 % of a GET visit's CPU."""
    return visit_documents(pg).where(
        Visit.id == sa.bindparam("visit_id"),
        access.owned_rule(
            role,
            customer_id=Visit.customer_id,
            center_id=Visit.center_id,
            scope=sa.bindparam("viewer_scope"),
        ),
    )


def visit_with_revisions() -> sa.Select[Visit]:
    return sa.select(Visit).options(
        selectinload(Visit.center).selectinload(Center.region),
        selectinload(Visit.vehicle).selectinload(Vehicle.coverages),
        selectinload(Visit.diagnoses),
        selectinload(Visit.estimates).selectinload(Estimate.lines),
        selectinload(Visit.warranty_decisions),
        selectinload(Visit.status_changes),
    )


def visible_to(user: User) -> sa.ColumnElement[bool]:
    """The filter on visits that a user may see: own, center, region or all."""
    return access.owned_filter(user, customer_id=Visit.customer_id, center_id=Visit.center_id)


def get_visit(session: Session, *, viewer: User, visit_id: int) -> Visit:
    """The visit, if the viewer may see it. Raises VisitNotFound (also for others' visits)."""
    visit = session.scalars(
        visit_with_revisions().where(Visit.id == visit_id, visible_to(viewer))
    ).first()
    if visit is None:
        raise VisitNotFound("visit not found")
    return visit
