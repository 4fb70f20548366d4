"""Escalation requests and the case as customers and staff see it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
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
from direkte.fields import TRIMMED, AmountText, Instant, RowRef
from direkte.guardrails.disclosure import customer_view
from direkte.money import MoneyOut, quantize
from direkte.network.models import User
from direkte.visits.read import VisitDoc
from direkte.visits.revisions import estimate_baseline

Body = Annotated[str, StringConstraints(min_length=1, max_length=4000), TRIMMED]


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


class VehicleContext(BaseModel):
    vin: str
    model: str
    model_year: int | None
    odometer_km: int | None
    delivery_date: date | None


class DiagnosisContext(BaseModel):
    revision: int
    findings: str
    codes: list[str]
    safety_related: bool
    created_at: datetime


class WarrantyContext(BaseModel):
    id: int
    decision: str
    claimed: MoneyOut
    covered: MoneyOut
    reason_code: str | None
    safety_related: bool


class VisitContextOut(BaseModel):
    vehicle: VehicleContext
    concern: str
    drivable: bool
    diagnosis_codes: list[str]
    diagnoses: list[DiagnosisContext]
    estimates: list[EstimateChange]
    warranty_decisions: list[WarrantyContext]
    earlier_visits: list[EarlierVisit]


class InboxItem(EscalationOut):
    context: VisitContextOut


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None


def _person(user: User | None) -> dict[str, str] | None:
    return {"name": user.name, "role": user.role.value} if user else None


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    """``MoneyOut``'s fields as plain values."""
    return {"amount": format(quantize(amount, currency), "f"), "currency": currency}


def escalation_out(
    case: Escalation, *, now: datetime, viewer: User, folded: bool = False
) -> EscalationOut:
    return EscalationOut.model_validate({**_fields(case, now=now, viewer=viewer), "folded": folded})


def guardrail_for(viewer: User, guardrail: dict[str, Any]) -> dict[str, Any]:
    """The decision as the viewer may see it: whole for staff, without inputs for customers."""
    return guardrail if access.sees_decision_inputs(viewer) else customer_view(guardrail)


_GUARDRAIL_FIELDS = tuple(GuardrailOut.model_fields)


def _fields(case: Escalation, *, now: datetime, viewer: User) -> dict[str, Any]:
    """The case as ``EscalationOut``'s fields, in plain values (dicts, not models): the
    typed answers validate them, the inbox's page serializes them as they are."""
    # The stored decision has exactly the contract's fields per rule (Decision.as_json);
    # a test checks that the inbox's page equals the validated models'.
    shown = guardrail_for(viewer, case.guardrail)
    guardrail = {k: shown.get(k) for k in _GUARDRAIL_FIELDS}
    outcome = None
    if case.outcome is not None:
        outcome = {
            "outcome": case.outcome,
            "amount_delta": _money(case.amount_delta or Decimal(0), case.currency),
            "note": case.outcome_note,
            "tier": case.outcome_tier,
            "resolved_at": case.resolved_at,
        }
    rating = None
    if case.rating_score is not None:
        rating = {
            "score": case.rating_score,
            "comment": case.rating_comment,
            "rated_at": case.rated_at,
        }
    return {
        "id": case.id,
        "visit_id": case.visit_id,
        "category": case.category,
        "subject_id": case.subject_id,
        "status": case.status,
        "tier": case.tier,
        "assignee": _person(case.assignee),
        "sla": {
            "first_response_due": case.first_response_due,
            "resolution_due": case.resolution_due,
            "first_response_at": case.first_response_at,
            "paused": case.sla_paused_at is not None,
            "breached": case.sla_next_due is not None and case.sla_next_due <= now,
        },
        "guardrail": guardrail,
        "version": case.version,
        "created_at": case.created_at,
        "folded": False,
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


def _context_fields(visit: VisitDoc, earlier: Sequence[EarlierVisitRow]) -> dict[str, Any]:
    """``VisitContextOut``'s fields in plain values (as ``_fields`` for the case)."""
    base = estimate_baseline(visit.estimates)
    changes = []
    for e in visit.estimates:
        change = e.total - base.total if base else Decimal(0)
        changes.append(
            {
                "revision": e.revision,
                "total": _money(e.total, e.currency),
                "approved": e.approved_at is not None,
                "change_from_first_approved": _money(change, e.currency),
                "change_percent": _percent(change, base.total) if base else None,
            }
        )
    return {
        "vehicle": {
            "vin": visit.vin,
            "model": visit.model,
            "model_year": visit.model_year,
            "odometer_km": visit.odometer_km,
            "delivery_date": visit.delivery_date,
        },
        "concern": visit.concern,
        "drivable": visit.drivable,
        "diagnosis_codes": sorted({c for d in visit.diagnoses for c in d.codes}),
        "diagnoses": [
            {
                "revision": d.revision,
                "findings": d.findings,
                "codes": d.codes,
                "safety_related": d.safety_related,
                "created_at": d.created_at,
            }
            for d in visit.diagnoses
        ],
        "estimates": changes,
        "warranty_decisions": [
            {
                "id": w.id,
                "decision": w.decision,
                "claimed": _money(w.claimed, w.currency),
                "covered": _money(w.covered, w.currency),
                "reason_code": w.reason_code,
                "safety_related": w.safety_related,
            }
            for w in visit.warranty_decisions
        ],
        "earlier_visits": [
            {
                "id": v.id,
                "center": v.center_code,
                "appointment_date": v.appointment_date,
                "concern": v.concern,
                "status": v.status,
            }
            for v in earlier
        ],
    }


def inbox_item(entry: InboxEntry, *, now: datetime, viewer: User) -> InboxItem:
    """One inbox entry, validated (the typed form; the route answers ``inbox_page_json``)."""
    return InboxItem.model_validate(_inbox_fields(entry, now=now, viewer=viewer))


def _inbox_fields(entry: InboxEntry, *, now: datetime, viewer: User) -> dict[str, Any]:
    return {
        **_fields(entry.case, now=now, viewer=viewer),
        "context": _context_fields(entry.visit, entry.earlier_visits),
    }


def inbox_page_json(
    entries: Sequence[InboxEntry], *, now: datetime, viewer: User, next_cursor: str | None
) -> bytes:
    """An ``InboxPage`` as JSON, serialized from plain values without building the models:
    a page is ~50 cases with their visits, and validating ~1,000 nested models cost more
    than the rest of the request (tests check it equals the validated ``InboxPage``)."""
    items = [_inbox_fields(entry, now=now, viewer=viewer) for entry in entries]
    return orjson.dumps({"items": items, "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z)
