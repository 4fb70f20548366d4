"""Escalation requests and the case as customers and staff see it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from direkte import access
from direkte.escalations.inbox import EarlierVisit as EarlierVisitRow
from direkte.escalations.inbox import InboxEntry
from direkte.escalations.models import (
    Category,
    Escalation,
    EscalationMessage,
    EscalationStatus,
    MessageKind,
    Outcome,
)
from direkte.fields import AmountText, Instant, RowRef
from direkte.guardrails.disclosure import customer_view
from direkte.money import MoneyOut
from direkte.network.models import User
from direkte.visits.models import Visit
from direkte.visits.revisions import estimate_baseline

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EscalationCreate(_In):
    category: Category
    subject_id: RowRef
    reason: Body


class MessageCreate(_In):
    body: Body
    await_customer: bool = Field(
        default=False, description="staff: wait on the customer's answer (pauses the SLA clock)"
    )


class NoteCreate(_In):
    body: Body


class CallCreate(_In):
    summary: Body
    called_at: Instant | None = None
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)


class ResolveIn(_In):
    outcome: Outcome
    amount_delta: AmountText
    note: Body
    version: int = Field(ge=1)


class RejectIn(_In):
    reason: Body


class HeldPage(BaseModel):
    items: list[EscalationOut]
    next_cursor: str | None


class AppealIn(_In):
    reason: Body


class RatingIn(_In):
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PersonRef(BaseModel):
    name: str
    role: str


class SlaOut(BaseModel):
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None = None
    paused: bool = False
    breached: bool = False


class RuleOut(BaseModel):
    rule: str
    passed: bool
    inputs: dict[str, Any]
    note: str


class GuardrailOut(BaseModel):
    decision: Literal["route", "reject", "moderate"]
    tier: int | None
    policy_version: str
    rules: list[RuleOut]
    explanation: str


class OutcomeOut(BaseModel):
    outcome: Outcome
    amount_delta: MoneyOut
    note: str | None
    tier: int | None
    resolved_at: datetime | None


class RatingOut(BaseModel):
    score: int
    comment: str | None
    rated_at: datetime | None


class EscalationOut(BaseModel):
    id: int
    visit_id: int
    category: Category
    subject_id: int
    status: EscalationStatus
    tier: int
    assignee: PersonRef | None
    sla: SlaOut
    guardrail: GuardrailOut
    version: int
    created_at: datetime
    folded: bool = False
    reason: str
    outcome: OutcomeOut | None
    appealed: bool
    rating: RatingOut | None
    rejection_reason: str | None = None


class MessageOut(BaseModel):
    id: int
    kind: MessageKind
    author: PersonRef
    body: str
    created_at: datetime
    called_at: datetime | None = None
    duration_seconds: int | None = None


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    actor: str


class EscalationDetail(EscalationOut):
    thread: list[MessageOut]
    timeline: list[TimelineEntry]
    notes: list[MessageOut] | None = None
    calls: list[MessageOut] | None = None


class EstimateChange(BaseModel):
    revision: int
    total: MoneyOut
    approved: bool
    change_from_first_approved: MoneyOut
    change_percent: str | None


class EarlierVisit(BaseModel):
    id: int
    center: str
    appointment_date: date | None
    concern: str
    status: str


class VisitContextOut(BaseModel):
    vehicle: dict[str, Any]
    concern: str
    drivable: bool
    diagnosis_codes: list[str]
    diagnoses: list[dict[str, Any]]
    estimates: list[EstimateChange]
    warranty_decisions: list[dict[str, Any]]
    earlier_visits: list[EarlierVisit]


class InboxItem(EscalationOut):
    context: VisitContextOut


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None


def _person(user: User | None) -> PersonRef | None:
    return PersonRef(name=user.name, role=user.role.value) if user else None


def escalation_out(
    case: Escalation, *, now: datetime, viewer: User, folded: bool = False
) -> EscalationOut:
    return EscalationOut(**_fields(case, now=now, viewer=viewer), folded=folded)


def guardrail_for(viewer: User, guardrail: dict[str, Any]) -> dict[str, Any]:
    """The decision as the viewer may see it: whole for staff, without inputs for customers."""
    return guardrail if access.sees_decision_inputs(viewer) else customer_view(guardrail)


def _fields(case: Escalation, *, now: datetime, viewer: User) -> dict[str, Any]:
    shown = guardrail_for(viewer, case.guardrail)
    guardrail = {k: shown.get(k) for k in GuardrailOut.model_fields}
    outcome = None
    if case.outcome is not None:
        outcome = OutcomeOut(
            outcome=case.outcome,
            amount_delta=MoneyOut.of(case.amount_delta or Decimal(0), case.currency),
            note=case.outcome_note,
            tier=case.outcome_tier,
            resolved_at=case.resolved_at,
        )
    rating = (
        RatingOut(score=case.rating_score, comment=case.rating_comment, rated_at=case.rated_at)
        if case.rating_score is not None
        else None
    )
    return {
        "id": case.id,
        "visit_id": case.visit_id,
        "category": case.category,
        "subject_id": case.subject_id,
        "status": case.status,
        "tier": case.tier,
        "assignee": _person(case.assignee),
        "sla": SlaOut(
            first_response_due=case.first_response_due,
            resolution_due=case.resolution_due,
            first_response_at=case.first_response_at,
            paused=case.sla_paused_at is not None,
            breached=case.sla_next_due is not None and case.sla_next_due <= now,
        ),
        "guardrail": GuardrailOut.model_validate(guardrail),
        "version": case.version,
        "created_at": case.created_at,
        "reason": case.reason,
        "outcome": outcome,
        "appealed": case.appealed_at is not None,
        "rating": rating,
        "rejection_reason": case.rejection_reason,
    }


def message_out(m: EscalationMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        kind=m.kind,
        author=PersonRef(name=m.author_name, role=m.author_role),
        body=m.body,
        created_at=m.created_at,
        called_at=m.called_at,
        duration_seconds=m.duration_seconds,
    )


def escalation_detail(case: Escalation, *, now: datetime, viewer: User) -> EscalationDetail:
    """The case with its thread and timeline; staff also get notes and the call log."""
    staff = access.is_staff(viewer)
    by_kind: dict[MessageKind, list[MessageOut]] = {k: [] for k in MessageKind}
    for message in case.messages:
        by_kind[message.kind].append(message_out(message))
    timeline = [
        TimelineEntry(
            at=e.at,
            kind=e.kind,
            from_status=e.from_status,
            to_status=e.to_status,
            actor=e.actor_label if staff or e.actor_kind == "system" else _actor_role(e.actor_kind),
        )
        for e in case.events
    ]
    return EscalationDetail(
        **_fields(case, now=now, viewer=viewer),
        thread=by_kind[MessageKind.message],
        timeline=timeline,
        notes=by_kind[MessageKind.note] if staff else None,
        calls=by_kind[MessageKind.call] if staff else None,
    )


def _actor_role(kind: str) -> str:
    return "you or staff" if kind == "user" else kind


def _percent(change: Decimal, base: Decimal) -> str | None:
    if base == 0:
        return None
    return str((change * 100 / base).quantize(Decimal("0.1")))


def visit_context_out(visit: Visit, earlier: Sequence[EarlierVisitRow]) -> VisitContextOut:
    """What a manager needs beside the case: codes, estimate history, decisions, history.

    Long because it is one mapping of the visit onto the inbox's context fields.
    """
    estimates = visit.estimates
    base = estimate_baseline(estimates)
    changes = []
    for e in estimates:
        change = e.total - base.total if base else Decimal(0)
        changes.append(
            EstimateChange(
                revision=e.seq,
                total=MoneyOut.of(e.total, e.currency),
                approved=e.approved_at is not None,
                change_from_first_approved=MoneyOut.of(change, e.currency),
                change_percent=_percent(change, base.total) if base else None,
            )
        )
    vehicle = visit.vehicle
    return VisitContextOut(
        vehicle={
            "vin": vehicle.vin,
            "model": vehicle.model,
            "model_year": vehicle.model_year,
            "odometer_km": vehicle.odometer_km,
            "delivery_date": vehicle.delivery_date.isoformat() if vehicle.delivery_date else None,
        },
        concern=visit.concern,
        drivable=visit.drivable,
        diagnosis_codes=sorted({c for d in visit.diagnoses for c in d.codes}),
        diagnoses=[
            {
                "revision": d.seq,
                "findings": d.findings,
                "codes": d.codes,
                "safety_related": d.safety_related,
                "created_at": d.created_at.isoformat(),
            }
            for d in visit.diagnoses
        ],
        estimates=changes,
        warranty_decisions=[
            {
                "id": w.id,
                "decision": w.decision.value,
                "claimed": MoneyOut.of(w.claimed, w.currency).model_dump(),
                "covered": MoneyOut.of(w.covered, w.currency).model_dump(),
                "reason_code": w.reason_code,
                "safety_related": w.safety_related,
            }
            for w in visit.warranty_decisions
        ],
        earlier_visits=[
            EarlierVisit(
                id=v.id,
                center=v.center_code,
                appointment_date=v.appointment_date,
                concern=v.concern,
                status=v.status,
            )
            for v in earlier
        ],
    )


def inbox_item(entry: InboxEntry, *, now: datetime, viewer: User) -> InboxItem:
    return InboxItem(
        **_fields(entry.case, now=now, viewer=viewer),
        context=visit_context_out(entry.visit, entry.earlier_visits),
    )
