"""Use cases on visits: the integration's upserts and revisions, and the reads of the visit."""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.util import identity_key

from direkte import access, money
from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.errors import BadRequest, Conflict, InvalidField, NotFound, RuleViolation
from direkte.escalations.models import Escalation
from direkte.fields import MAX_ROW_ID
from direkte.network.models import Center, Role, User
from direkte.visits.contacts import Contact, Place, contacts_shown, find_contacts, record_reveals
from direkte.visits.models import (
    CoverageKind,
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
from direkte.visits.read import VisitDoc, read_visits
from direkte.visits.schemas import (
    DiagnosisCreate,
    EstimateCreate,
    EstimateLineIn,
    VehicleIn,
    VisitUpsert,
    WarrantyDecisionCreate,
)

# Applied when an integration sends a new vehicle without its coverages.
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
MAX_ID = MAX_ROW_ID


class InvalidStatusTransition(Conflict):
    code = "invalid_status_transition"


class VisitNotFound(NotFound):
    code = "visit_not_found"


class EstimateNotFound(NotFound):
    code = "estimate_not_found"


class EstimateSuperseded(Conflict):
    code = "estimate_superseded"


class VisitClosed(Conflict):
    code = "visit_closed"


class InvalidFields(RuleViolation):
    code = "validation_error"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        super().__init__(summary, problems)


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
    conn = session.connection()
    values = {
        "center_id": refs.center_id,
        "customer_id": refs.customer_id,
        "vehicle_id": vehicle_id,
        "advisor_id": refs.advisor_id,
        "currency": refs.currency,
    }
    existing = _locked_visit(session, external_id)
    if existing is None:
        values.update(_visit_values(data, None, now))
        visit_id = conn.execute(
            _visit_insert(conn.dialect.name),
            {"external_id": external_id, "created_at": now, "updated_at": now, **values},
        ).scalar()
        if visit_id is not None:
            visit = VisitRef(visit_id, external_id, data.status)
            _record_status(session, visit, None, now, actor)
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
            return visit, True
        existing = _locked_visit(session, external_id)  # a concurrent call created it
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
        conn.execute(
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
        _record_status(session, visit, previous, now, actor)
    return visit, False


def _visit_values(data: VisitUpsert, existing: Any, now: datetime) -> dict[str, Any]:
    """The visit's own fields; times the integration leaves out are kept or derived."""
    status = data.status
    checked_in_at = data.checked_in_at or (existing.checked_in_at if existing else None)
    if checked_in_at is None and status not in (VisitStatus.scheduled, VisitStatus.cancelled):
        checked_in_at = now
    closed_at = None
    if status == VisitStatus.closed:
        closed_at = data.closed_at or (existing.closed_at if existing else None) or now
    return {
        "concern": data.concern,
        "status": status,
        "booked_at": data.booked_at,
        "appointment_date": data.appointment_date,
        "checked_in_at": checked_in_at,
        "promised_at": data.promised_at,
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


def _lock_visit(session: Session, external_id: str) -> Visit:
    visit = session.scalars(
        sa.select(Visit)
        .where(Visit.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if visit is None:
        raise VisitNotFound(f"no visit with external id {external_id!r}")
    return visit


def _next_seq(
    session: Session, model: type[Diagnosis | Estimate | WarrantyDecision], visit_id: int
) -> int:
    current = session.scalar(sa.select(sa.func.max(model.seq)).where(model.visit_id == visit_id))
    return (current or 0) + 1


def _check_own(
    session: Session,
    model: type[Diagnosis | Estimate],
    field: str,
    obj_id: int | None,
    visit: Visit,
) -> None:
    if obj_id is None:
        return
    found = session.scalar(sa.select(model.visit_id).where(model.id == obj_id))
    if found != visit.id:
        raise InvalidField(field, "not a revision of this visit")


def add_diagnosis(
    session: Session, clock: Clock, *, external_id: str, data: DiagnosisCreate, actor: Actor
) -> Diagnosis:
    """Append a diagnosis revision. Raises VisitNotFound, InvalidField, VisitClosed."""
    visit = _lock_visit(session, external_id)
    _check_open(visit)
    _check_own(session, Diagnosis, "revises_id", data.revises_id, visit)
    diagnosis = Diagnosis(
        visit_id=visit.id,
        seq=_next_seq(session, Diagnosis, visit.id),
        findings=data.findings,
        codes=list(data.codes),
        safety_related=data.safety_related,
        author=actor.label,
        created_at=clock.now(),
    )
    session.add(diagnosis)
    session.flush()
    record_event(
        session,
        at=clock.now(),
        actor=actor,
        action="diagnosis.added",
        subject_kind="diagnosis",
        subject_id=diagnosis.id,
        visit_id=visit.id,
        data={"revision": diagnosis.seq},
    )
    return diagnosis


def _check_open(visit: Visit) -> None:
    if visit.status == VisitStatus.cancelled:
        raise VisitClosed("the visit is cancelled", {"current_status": visit.status.value})


def _priced_lines(
    lines: Sequence[EstimateLineIn], currency: str, prefix: str
) -> tuple[list[EstimateLine], Decimal, list[dict[str, str]]]:
    problems: list[dict[str, str]] = []
    priced: list[EstimateLine] = []
    total = Decimal(0)
    for i, line in enumerate(lines):
        quantity = Decimal(line.quantity)
        if quantity <= 0:
            problems.append({"field": f"{prefix}[{i}].quantity", "message": "must be above 0"})
        try:
            unit_price = money.parse_amount(line.unit_price, currency)
        except ValueError as exc:
            problems.append({"field": f"{prefix}[{i}].unit_price", "message": str(exc)})
            continue
        amount = money.quantize(quantity * unit_price, currency)
        total += amount
        priced.append(
            EstimateLine(
                position=i,
                kind=line.kind,
                description=line.description,
                quantity=quantity,
                unit_price=unit_price,
                amount=amount,
            )
        )
    return priced, total, problems


def _currency_for(visit: Visit, requested: str | None) -> str:
    if requested is not None and requested != visit.currency:
        raise InvalidField("currency", f"this visit is priced in {visit.currency}")
    return visit.currency


def add_estimate(
    session: Session, clock: Clock, *, external_id: str, data: EstimateCreate, actor: Actor
) -> Estimate:
    """Append an estimate revision, its total computed exactly from the lines.

    Raises VisitNotFound, InvalidField(s), VisitClosed.
    """
    visit = _lock_visit(session, external_id)
    _check_open(visit)
    currency = _currency_for(visit, data.currency)
    lines, total, problems = _priced_lines(data.lines, currency, "lines")
    if total < 0:
        problems.append({"field": "lines", "message": "the total cannot be negative"})
    if problems:
        raise InvalidFields(problems)
    now = clock.now()
    estimate = Estimate(
        visit_id=visit.id,
        seq=_next_seq(session, Estimate, visit.id),
        currency=currency,
        total=total,
        reason=data.reason,
        author=actor.label,
        created_at=now,
        lines=lines,
        approved_at=now if data.approved else None,
        approved_by=f"counter ({actor.label})" if data.approved else None,
    )
    session.add(estimate)
    session.flush()
    record_event(
        session,
        at=now,
        actor=actor,
        action="estimate.added",
        subject_kind="estimate",
        subject_id=estimate.id,
        visit_id=visit.id,
        data={
            "revision": estimate.seq,
            "total": str(total),
            "currency": currency,
            "approved": data.approved,
        },
    )
    return estimate


def add_warranty_decision(
    session: Session, clock: Clock, *, external_id: str, data: WarrantyDecisionCreate, actor: Actor
) -> WarrantyDecision:
    """Append a warranty decision on a claim. Raises VisitNotFound, InvalidField(s), VisitClosed."""
    visit = _lock_visit(session, external_id)
    _check_open(visit)
    currency = _currency_for(visit, data.currency)
    _check_own(session, Estimate, "estimate_id", data.estimate_id, visit)
    problems: list[dict[str, str]] = []
    amounts: dict[str, Decimal] = {}
    for field in ("claimed", "covered"):
        try:
            amounts[field] = money.parse_amount(getattr(data, field), currency)
        except ValueError as exc:
            problems.append({"field": field, "message": str(exc)})
            continue
        if amounts[field] < 0:
            problems.append({"field": field, "message": "cannot be negative"})
    lines, _, line_problems = _priced_lines(data.lines, currency, "lines")
    problems += line_problems
    if not problems and amounts["covered"] > amounts["claimed"]:
        problems.append({"field": "covered", "message": "cannot exceed the claimed amount"})
    if problems:
        raise InvalidFields(problems)
    now = clock.now()
    decision = WarrantyDecision(
        visit_id=visit.id,
        seq=_next_seq(session, WarrantyDecision, visit.id),
        decision=data.decision,
        currency=currency,
        claimed=amounts["claimed"],
        covered=amounts["covered"],
        reason_code=data.reason_code,
        safety_related=data.safety_related,
        estimate_id=data.estimate_id,
        author=actor.label,
        created_at=now,
        claim_lines=[
            {
                "kind": ln.kind.value,
                "description": ln.description,
                "quantity": str(ln.quantity),
                "unit_price": str(ln.unit_price),
            }
            for ln in lines
        ],
    )
    session.add(decision)
    session.flush()
    record_event(
        session,
        at=now,
        actor=actor,
        action="warranty_decision.added",
        subject_kind="warranty_decision",
        subject_id=decision.id,
        visit_id=visit.id,
        data={
            "decision": data.decision.value,
            "claimed": str(amounts["claimed"]),
            "covered": str(amounts["covered"]),
        },
    )
    return decision


# ---- reads -------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class VisitView:
    doc: VisitDoc
    contacts: list[Contact]
    escalations: list[Escalation]


def _escalations_of(session: Session, visit_ids: list[int]) -> dict[int, list[Escalation]]:
    found: dict[int, list[Escalation]] = {}
    if visit_ids:
        query = (
            sa.select(Escalation)
            .where(Escalation.visit_id.in_(visit_ids))
            .order_by(Escalation.id)
            .options(selectinload(Escalation.assignee))
        )
        for case in session.scalars(query):
            found.setdefault(case.visit_id, []).append(case)
    return found


def _views(
    session: Session, docs: list[VisitDoc], *, viewer: User, now: datetime
) -> list[VisitView]:
    """Attach contacts (recording each reveal) and escalations to read visits."""
    cache: dict[int, list[Contact]] = {}
    cases = _escalations_of(session, [d.id for d in docs if d.row.escalation_count])
    views = []
    for doc in docs:
        row = doc.row
        contacts: list[Contact] = []
        if contacts_shown(row.program, row.status, row.checked_in_at, row.closed_at, now):
            place = Place(
                row.center_id,
                row.region_id,
                row.program,
                row.time_zone,
                row.country,
                row.business_hours,
                row.closed_dates,
            )
            contacts = find_contacts(session, place, now=now, cache=cache)
            record_reveals(session, at=now, viewer=viewer, visit_id=doc.id, contacts=contacts)
        views.append(VisitView(doc, contacts, cases.get(doc.id, [])))
    return views


def view_visit(session: Session, clock: Clock, *, viewer: User, visit_id: int) -> VisitView:
    """Read a visit with its manager contacts, recording each contact revealed.

    Raises VisitNotFound (also for visits the viewer may not see).
    """
    docs = read_visits(session, sa.and_(Visit.id == visit_id, visible_to(viewer)))
    if not docs:
        raise VisitNotFound("visit not found")
    return _views(session, docs, viewer=viewer, now=clock.now())[0]


def view_visits(
    session: Session, clock: Clock, *, viewer: User, limit: int, cursor: str | None
) -> tuple[list[VisitView], str | None]:
    """A page of the viewer's visits, newest first, with contacts (each reveal recorded).

    Raises InvalidCursor.
    """
    before = _decode_cursor(cursor)
    where = visible_to(viewer) if before is None else sa.and_(visible_to(viewer), Visit.id < before)
    docs = read_visits(session, where, order_by=Visit.id.desc(), limit=limit + 1)
    more = len(docs) > limit
    docs = docs[:limit]
    next_cursor = encode_cursor(docs[-1].id) if more and docs else None
    return _views(session, docs, viewer=viewer, now=clock.now()), next_cursor


def get_visit(session: Session, *, viewer: User, visit_id: int) -> Visit:
    """The visit, if the viewer may see it. Raises VisitNotFound (also for others' visits)."""
    visit = session.scalars(
        visit_with_revisions().where(Visit.id == visit_id, visible_to(viewer))
    ).first()
    if visit is None:
        raise VisitNotFound("visit not found")
    return visit


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        before = int(value)
        # Ids are 32-bit integers on both databases; a larger bound would overflow there.
        if kind != "v" or not 0 < before <= MAX_ID:
            raise ValueError
        return before
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(
            "invalid cursor", [{"field": "cursor", "message": "invalid cursor"}]
        ) from None


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


def decode_offset_cursor(cursor: str | None) -> int:
    """An offset cursor (for lists ordered by a computed key). Raises InvalidCursor."""
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
        if kind != "o" or not 0 <= offset <= MAX_ID:
            raise ValueError
        return offset
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(
            "invalid cursor", [{"field": "cursor", "message": "invalid cursor"}]
        ) from None


def encode_offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v:{last_id}".encode()).decode()


def approve_estimate(
    session: Session, clock: Clock, *, viewer: User, visit_id: int, estimate_id: int
) -> Estimate:
    """The customer approves an estimate revision (approving twice changes nothing).

    Raises CustomersOnly, VisitNotFound, EstimateNotFound, EstimateSuperseded, VisitClosed.
    """
    access.require_customer(viewer)
    visit = get_visit(session, viewer=viewer, visit_id=visit_id)
    estimate = next((e for e in visit.estimates if e.id == estimate_id), None)
    if estimate is None:
        raise EstimateNotFound("estimate not found")
    if estimate.approved_at is not None:
        return estimate
    if visit.status in TERMINAL:
        raise VisitClosed(
            f"the visit is {visit.status.value}", {"current_status": visit.status.value}
        )
    if estimate.seq != max(e.seq for e in visit.estimates):
        raise EstimateSuperseded("a newer estimate revision exists; approve that one")
    now = clock.now()
    estimate.approved_at = now
    estimate.approved_by = viewer.email
    record_event(
        session,
        at=now,
        actor=Actor("user", viewer.id, viewer.email),
        action="estimate.approved",
        subject_kind="estimate",
        subject_id=estimate.id,
        visit_id=visit.id,
        data={"revision": estimate.seq, "total": str(estimate.total)},
    )
    return estimate
