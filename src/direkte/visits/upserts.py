"""The integration's upsert of a visit and its vehicle, with the status history."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.marks import mark_dirty
from direkte.network.models import Center, Role, User
from direkte.visits.errors import (
    InvalidFields,
    InvalidStatusTransition,
)
from direkte.visits.models import (
    CoverageKind,
    Vehicle,
    Visit,
    VisitStatus,
    VisitStatusChange,
    WarrantyCoverage,
)
from direkte.visits.schemas import (
    VehicleIn,
    VisitUpsert,
)

DEFAULT_COVERAGES = {CoverageKind.basic: (4, 80_000), CoverageKind.battery_drive_unit: (8, 160_000)}

_FLOW = (
    VisitStatus.scheduled,
    VisitStatus.checked_in,
    VisitStatus.diagnosing,
    VisitStatus.awaiting_approval,
    VisitStatus.in_repair,
    VisitStatus.ready,
    VisitStatus.closed,
)
# Steps back that happen in a workshop: a re-diagnosis, a new estimate to approve.
_BACKWARD = {
    (VisitStatus.awaiting_approval, VisitStatus.diagnosing),
    (VisitStatus.in_repair, VisitStatus.diagnosing),
    (VisitStatus.in_repair, VisitStatus.awaiting_approval),
    (VisitStatus.ready, VisitStatus.in_repair),
}
TERMINAL = frozenset({VisitStatus.closed, VisitStatus.cancelled})
# The largest row id (INTEGER keys): ids beyond it cannot exist, and binding one overflows.


def can_transition(current: VisitStatus, target: VisitStatus) -> bool:
    """Whether a visit may move from ``current`` to ``target`` (staying put is allowed)."""
    if current == target:
        return True
    if current in TERMINAL:
        return False
    if target == VisitStatus.cancelled:
        return True
    return _FLOW.index(target) > _FLOW.index(current) or (current, target) in _BACKWARD


@dataclass(frozen=True, slots=True)
class VisitRef:
    """What an upsert answers with: the visit's id, external id and status."""

    id: int
    external_id: str
    status: VisitStatus


# The upsert path's statements are built once (per dialect) with bound parameters:
# building a statement costs more Python than executing a cached one.
_VEHICLE_FIELDS = ("model", "model_year", "odometer_km", "delivery_date", "owner_id")
_VISIT_FIELDS = (
    "center_id",
    "customer_id",
    "vehicle_id",
    "advisor_id",
    "currency",
    "concern",
    "status",
    "booked_at",
    "appointment_date",
    "checked_in_at",
    "promised_at",
    "ready_at",
    "closed_at",
    "drivable",
)


def _params(names: Sequence[str]) -> dict[str, Any]:
    return {name: sa.bindparam(name) for name in names}


@functools.cache
def _vehicle_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (vin) DO UPDATE, answering the id and, on PostgreSQL, if new."""
    table = Vehicle.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Vehicle)
    insert = insert.values(_params(("vin", "created_at", "updated_at", *_VEHICLE_FIELDS)))
    changed = sa.or_(*(table.c[k].is_distinct_from(insert.excluded[k]) for k in _VEHICLE_FIELDS))
    upsert = insert.on_conflict_do_update(
        index_elements=["vin"],
        set_={
            **{k: insert.excluded[k] for k in _VEHICLE_FIELDS},
            "updated_at": sa.case((changed, insert.excluded.updated_at), else_=table.c.updated_at),
        },
    )
    if dialect == "postgresql":
        return upsert.returning(table.c.id, sa.literal_column("(xmax = 0)", sa.Boolean))
    return upsert.returning(table.c.id)


_VEHICLE_ID = sa.select(Vehicle.id).where(Vehicle.vin == sa.bindparam("vin"))
_COVERAGES = sa.select(
    WarrantyCoverage.kind, WarrantyCoverage.years, WarrantyCoverage.distance_km
).where(WarrantyCoverage.vehicle_id == sa.bindparam("vehicle_id"))


@functools.cache
def _visit_insert(dialect: str) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Visit)
    return (
        insert.values(_params(("external_id", "created_at", "updated_at", *_VISIT_FIELDS)))
        .on_conflict_do_nothing(index_elements=["external_id"])
        .returning(Visit.id)
    )


@functools.cache
def _visit_update(fields: tuple[str, ...]) -> Any:
    return (
        sa.update(Visit)
        .where(Visit.id == sa.bindparam("visit_id"))
        .values(_params(("updated_at", *fields)))
    )


_LOCKED_VISIT = (
    sa.select(Visit.id, *(getattr(Visit, k) for k in _VISIT_FIELDS))
    .where(Visit.external_id == sa.bindparam("external_id"))
    .with_for_update()
)
_IS_CUSTOMER = sa.and_(User.email == sa.bindparam("email"), User.role == Role.customer)
# One round trip on the happy path: the center, and the customer joined beside it.
_CENTER_AND_CUSTOMER = (
    sa.select(Center.id, Center.currency, User.id.label("customer_id"))
    .select_from(Center)
    .outerjoin(User, _IS_CUSTOMER)
    .where(Center.code == sa.bindparam("code"))
)
_CUSTOMER = sa.select(User.id).where(_IS_CUSTOMER)
_STAFF = sa.select(User.id, User.center_id).where(User.email == sa.bindparam("email"))


def _forget(session: Session, model: type[Vehicle] | type[Visit], row_id: int) -> None:
    """Expire the session's copy of a row changed by a Core statement, if it holds one."""
    held = session.identity_map.get(identity_key(model, row_id))
    if held is not None:
        session.expire(held)


def _upsert_vehicle(session: Session, now: datetime, data: VehicleIn, owner_id: int) -> int:
    """Create or update the vehicle by VIN in one statement (locking its row); its id.

    On PostgreSQL the statement itself tells a new row from an updated one
    (``xmax = 0``); SQLite looks first, which is safe there because a write
    transaction holds the database's one writer lock from its start.
    """
    conn = session.connection()
    dialect = conn.dialect.name
    known = None
    if dialect != "postgresql":
        known = conn.execute(_VEHICLE_ID, {"vin": data.vin}).scalar()
    values = {
        "vin": data.vin,
        "created_at": now,
        "updated_at": now,
        "model": data.model,
        "model_year": data.model_year,
        "odometer_km": data.odometer_km,
        "delivery_date": data.delivery_date,
        "owner_id": owner_id,
    }
    row = conn.execute(_vehicle_upsert(dialect), values).one()
    vehicle_id = int(row[0])
    created = bool(row[1]) if dialect == "postgresql" else known is None
    if not created:
        _forget(session, Vehicle, vehicle_id)
    wanted = (
        {c.kind: (c.years, c.distance_km) for c in data.warranty}
        if data.warranty is not None
        else (DEFAULT_COVERAGES if created else None)
    )
    if wanted is None:
        return vehicle_id
    if not created:
        current = {
            kind: (years, distance)
            for kind, years, distance in conn.execute(_COVERAGES, {"vehicle_id": vehicle_id})
        }
        if current == wanted:
            return vehicle_id
        conn.execute(sa.delete(WarrantyCoverage).where(WarrantyCoverage.vehicle_id == vehicle_id))
        conn.execute(sa.update(Vehicle).where(Vehicle.id == vehicle_id).values(updated_at=now))
    conn.execute(
        sa.insert(WarrantyCoverage),
        [
            {"vehicle_id": vehicle_id, "kind": kind, "years": years, "distance_km": distance}
            for kind, (years, distance) in wanted.items()
        ],
    )
    return vehicle_id


@dataclass(frozen=True, slots=True)
class _Refs:
    center_id: int
    currency: str
    customer_id: int
    advisor_id: int | None


def _resolve_refs(session: Session, data: VisitUpsert) -> _Refs:
    conn = session.connection()
    problems = []
    customer_email = data.customer_email.lower()
    found = conn.execute(
        _CENTER_AND_CUSTOMER, {"code": data.center, "email": customer_email}
    ).first()
    center_id: int | None = None
    currency = ""
    customer_id: int | None
    if found is not None:
        center_id, currency, customer_id = found
    else:
        customer_id = conn.execute(_CUSTOMER, {"email": customer_email}).scalar()
    if center_id is None:
        problems.append({"field": "center", "message": f"unknown center {data.center!r}"})
    if customer_id is None:
        problems.append({"field": "customer_email", "message": "unknown customer"})
    advisor_id = None
    if data.advisor_email is not None:
        advisor = conn.execute(_STAFF, {"email": data.advisor_email.lower()}).first()
        if advisor is None or center_id is None or advisor.center_id != center_id:
            problems.append({"field": "advisor_email", "message": "not staff at this center"})
        else:
            advisor_id = advisor.id
    if problems:
        raise InvalidFields(problems)
    assert center_id is not None
    assert customer_id is not None
    return _Refs(center_id, currency, customer_id, advisor_id)


def _locked_visit(session: Session, external_id: str) -> Any:
    return session.connection().execute(_LOCKED_VISIT, {"external_id": external_id}).first()


def upsert_visit(
    session: Session, clock: Clock, *, external_id: str, data: VisitUpsert, actor: Actor
) -> tuple[VisitRef, bool]:
    """Create or update the visit with this external id; True when created.

    Safe under concurrent calls for one id: the visit is read under a row
    lock; when it is missing the insert skips on conflict, and the loser of a
    race updates the winner's row. Written with Core statements (the hottest
    integration path: no ORM unit of work). Raises InvalidFields for an
    unknown center, customer or advisor, and InvalidStatusTransition.
    """
    now = clock.now()
    refs = _resolve_refs(session, data)
    vehicle_id = _upsert_vehicle(session, now, data.vehicle, refs.customer_id)
    values = {
        "center_id": refs.center_id,
        "customer_id": refs.customer_id,
        "vehicle_id": vehicle_id,
        "advisor_id": refs.advisor_id,
        "currency": refs.currency,
    }
    existing = _locked_visit(session, external_id)
    if existing is None:
        created = _insert_visit(session, now, external_id, data, values, actor)
        if created is not None:
            return created, True
        existing = _locked_visit(session, external_id)  # a concurrent call created it
    return _update_visit(session, now, external_id, existing, data, values, actor), False


def _insert_visit(
    session: Session,
    now: datetime,
    external_id: str,
    data: VisitUpsert,
    values: dict[str, Any],
    actor: Actor,
) -> VisitRef | None:
    """Insert the visit with its first status and audit event; None if a concurrent call won."""
    conn = session.connection()
    visit_id = conn.execute(
        _visit_insert(conn.dialect.name),
        {
            "external_id": external_id,
            "created_at": now,
            "updated_at": now,
            **values,
            **_visit_values(data, None, now),
        },
    ).scalar()
    if visit_id is None:
        return None
    visit = VisitRef(visit_id, external_id, data.status)
    visit_values = _visit_values(data, None, now)
    _record_status(session, visit, None, _status_time(data.status, visit_values, now), actor)
    mark_dirty(session, values["center_id"], [visit_values["checked_in_at"]])
    record_event(
        session,
        at=now,
        actor=actor,
        action="visit.created",
        subject_kind="visit",
        subject_id=visit_id,
        visit_id=visit_id,
        data={"external_id": external_id},
    )
    return visit


def _update_visit(
    session: Session,
    now: datetime,
    external_id: str,
    existing: Any,
    data: VisitUpsert,
    values: dict[str, Any],
    actor: Actor,
) -> VisitRef:
    """Write the fields that differ from the locked row ``existing``, and record the change.

    Raises InvalidStatusTransition.
    """
    previous = existing.status
    if not can_transition(previous, data.status):
        raise InvalidStatusTransition(
            f"a {previous.value} visit cannot become {data.status.value}",
            {"current_status": previous.value, "requested_status": data.status.value},
        )
    values.update(_visit_values(data, existing, now))
    changed = sorted(k for k, v in values.items() if getattr(existing, k) != v)
    visit = VisitRef(existing.id, external_id, data.status)
    if changed:
        session.connection().execute(
            _visit_update(tuple(changed)),
            {"visit_id": visit.id, "updated_at": now, **{k: values[k] for k in changed}},
        )
        _forget(session, Visit, visit.id)
        record_event(
            session,
            at=now,
            actor=actor,
            action="visit.updated",
            subject_kind="visit",
            subject_id=visit.id,
            visit_id=visit.id,
            data={"fields": changed},
        )
    if previous != data.status:
        _record_status(session, visit, previous, _status_time(data.status, values, now), actor)
    if changed:
        # the figures of the check-in day it had and the one it has (DESIGN §7)
        mark_dirty(session, values["center_id"], [existing.checked_in_at, values["checked_in_at"]])
        if existing.center_id != values["center_id"]:
            mark_dirty(session, existing.center_id, [existing.checked_in_at])
    return visit


def _status_time(status: VisitStatus, values: dict[str, Any], now: datetime) -> datetime:
    """When a status change took effect: the time the integration gives for it
    (``checked_in_at``, ``ready_at``, ``closed_at``; dealer systems send late and
    backfill), else when it was received."""
    given = {
        VisitStatus.checked_in: values["checked_in_at"],
        VisitStatus.ready: values["ready_at"],
        VisitStatus.closed: values["closed_at"],
    }.get(status)
    return given if given is not None else now


def _visit_values(data: VisitUpsert, existing: Any, now: datetime) -> dict[str, Any]:
    """The visit's own fields; times the integration leaves out are kept or derived."""
    status = data.status
    checked_in_at = data.checked_in_at or (existing.checked_in_at if existing else None)
    if checked_in_at is None and status not in (VisitStatus.scheduled, VisitStatus.cancelled):
        checked_in_at = now
    closed_at = None
    if status == VisitStatus.closed:
        closed_at = data.closed_at or (existing.closed_at if existing else None) or now
    ready_at = data.ready_at or (existing.ready_at if existing else None)
    if ready_at is None and status == VisitStatus.ready:
        ready_at = now
    if status not in (VisitStatus.ready, VisitStatus.closed) and data.ready_at is None:
        ready_at = None  # back in the workshop: not ready (yet)
    return {
        "concern": data.concern,
        "status": status,
        "booked_at": data.booked_at,
        "appointment_date": data.appointment_date,
        "checked_in_at": checked_in_at,
        "promised_at": data.promised_at,
        "ready_at": ready_at,
        "closed_at": closed_at,
        "drivable": data.drivable,
    }


def _record_status(
    session: Session,
    visit: VisitRef,
    previous: VisitStatus | None,
    now: datetime,
    actor: Actor,
) -> None:
    session.connection().execute(
        sa.insert(VisitStatusChange),
        {
            "visit_id": visit.id,
            "from_status": previous,
            "to_status": visit.status,
            "changed_at": now,
            "actor": actor.label,
        },
    )
