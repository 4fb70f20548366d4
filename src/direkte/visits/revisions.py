"""The integration's revisions of a visit (diagnoses, estimates, warranty decisions), the
customer's approval of an estimate, and the rules about revisions more than one reader needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access, money
from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.errors import InvalidField
from direkte.network.models import User
from direkte.visits.errors import (
    EstimateNotFound,
    EstimateSuperseded,
    InvalidFields,
    VisitClosed,
    VisitNotFound,
)
from direkte.visits.models import (
    Diagnosis,
    Estimate,
    EstimateLine,
    Visit,
    VisitStatus,
    WarrantyDecision,
)
from direkte.visits.read import EstimateDoc, get_visit, read_visits
from direkte.visits.schemas import (
    DiagnosisCreate,
    EstimateCreate,
    EstimateLineIn,
    WarrantyDecisionCreate,
)
from direkte.visits.upserts import TERMINAL


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
    amounts, lines = _claim_amounts(data, currency)
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
        claim_lines=_claim_lines(lines),
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


def _claim_amounts(
    data: WarrantyDecisionCreate, currency: str
) -> tuple[dict[str, Decimal], list[EstimateLine]]:
    """The claimed and covered amounts and the priced claim lines. Raises InvalidFields."""
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
    return amounts, lines


def _claim_lines(lines: list[EstimateLine]) -> list[dict[str, str]]:
    """The claim's lines as the decision stores them (JSON: amounts as strings)."""
    return [
        {
            "kind": ln.kind.value,
            "description": ln.description,
            "quantity": str(ln.quantity),
            "unit_price": str(ln.unit_price),
        }
        for ln in lines
    ]


def approve_estimate(
    session: Session, clock: Clock, *, viewer: User, visit_id: int, estimate_id: int
) -> EstimateDoc:
    """The customer approves an estimate revision (approving twice changes nothing);
    returns the revision as read.

    Raises CustomersOnly, VisitNotFound, EstimateNotFound, EstimateSuperseded, VisitClosed.
    """
    access.require_customer(viewer)
    estimate = _approve(session, clock, viewer=viewer, visit_id=visit_id, estimate_id=estimate_id)
    session.flush()
    doc = read_visits(session, Visit.id == visit_id)[0]
    return next(e for e in doc.estimates if e.id == estimate.id)


def _approve(
    session: Session, clock: Clock, *, viewer: User, visit_id: int, estimate_id: int
) -> Estimate:
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
        actor=Actor.user(viewer),
        action="estimate.approved",
        subject_kind="estimate",
        subject_id=estimate.id,
        visit_id=visit.id,
        data={"revision": estimate.seq, "total": str(estimate.total)},
    )
    return estimate


class _Revision(Protocol):
    @property
    def approved_at(self) -> datetime | None: ...


R = TypeVar("R", bound=_Revision)


def estimate_baseline(estimates: Sequence[R]) -> R | None:
    """The revision that materiality is measured from: the first approved estimate,
    else the first estimate (API.md, Integration); None when there are none.
    ``estimates`` are in revision order."""
    return next((e for e in estimates if e.approved_at is not None), None) or (
        estimates[0] if estimates else None
    )
