"""The visit as read: one statement per page of visits, revisions aggregated as JSON.

The read side is the hot path (every app open), so instead of loading ORM
objects collection by collection it asks the database for each visit's
revisions as JSON in the same row, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from direkte import access
from direkte.network.models import Center, Region, User
from direkte.visits.errors import VisitNotFound
from direkte.visits.models import (
    Diagnosis,
    Estimate,
    EstimateLine,
    Vehicle,
    Visit,
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
    """Visits with center, vehicle and every revision list, one row per visit (built once)."""
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
class VisitDoc:
    """A visit as read, with everything its API form and its contacts need."""

    row: Any
    coverages: list[dict[str, Any]]
    status_history: list[dict[str, Any]]
    diagnoses: list[dict[str, Any]]
    estimates: list[dict[str, Any]]
    warranty_decisions: list[dict[str, Any]]

    @property
    def id(self) -> int:
        return int(self.row.id)


def _sorted(value: Any, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _loads(value)
    items.sort(key=lambda item: item[key])
    return items


def _doc(row: Any) -> VisitDoc:
    estimates = _sorted(row.estimates, "revision")
    for estimate in estimates:
        estimate["lines"] = _sorted(estimate["lines"], "position")
    return VisitDoc(
        row=row,
        coverages=_sorted(row.coverages, "kind"),
        status_history=_sorted(row.status_history, "id"),
        diagnoses=_sorted(row.diagnoses, "revision"),
        estimates=estimates,
        warranty_decisions=_sorted(row.warranty_decisions, "revision"),
    )


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


def as_decimal(text: Decimal | str | int) -> Decimal:
    return Decimal(str(text))


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
