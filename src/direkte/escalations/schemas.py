"""Escalation requests and the case as customers and staff see it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from direkte import access
from direkte.clock import Clock
from direkte.escalations.errors import NotEligible
from direkte.escalations.facts import Manager
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
from direkte.escalations.opening import Opened, Preview, open_escalation
from direkte.fields import TRIMMED, AmountText, Instant, RowRef
from direkte.guardrails.content import parse_match
from direkte.guardrails.disclosure import customer_view
from direkte.kit.errors import error_body
from direkte.money import MoneyOut, quantize
from direkte.network.hours import OpeningHours, business_time_between, opening_hours
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


class EscalationPreviewIn(_In):
    category: Category
    subject_id: RowRef
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


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


class GuardrailPreviewOut(GuardrailOut):
    """A decision not taken yet: for a routed request who would take it and by when,
    for a duplicate the open case it would join."""

    assignee: PersonRef | None = None
    sla: SlaOut | None = None
    folded_into: int | None = None


class PreviewOut(BaseModel):
    guardrail: GuardrailPreviewOut
    time_zone: str = Field(description="the center's time zone, for showing the due times")


class AppealPreviewOut(BaseModel):
    allowed: bool
    explanation: str | None = Field(description="why not, in the customer's language")
    window_ends: datetime | None


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


class EvidenceOut(BaseModel):
    category: str  # the hold category (DESIGN.md §5), e.g. "family_threat"
    list: str  # the phrase list that matched ("en", "nb", ...; "model": the classifier)
    words: str  # the words that decided, as matched in the normalized text


class ModerationOut(BaseModel):
    """Why the guardrails held the request: each category, and the words that decided."""

    categories: list[str]
    evidence: list[EvidenceOut]
    language: str | None


class HeldItem(EscalationOut):
    moderation: ModerationOut


class HeldPage(BaseModel):
    items: list[HeldItem]
    next_cursor: str | None


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


class CenterRef(BaseModel):
    code: str
    name: str
    time_zone: str


class InboxItem(EscalationOut):
    context: VisitContextOut
    customer: str = Field(description="the customer's name")
    center: CenterRef
    amount_at_stake: MoneyOut | None = Field(
        description="estimate: the disputed revision's rise over the first approved one; "
        "warranty: claimed minus covered; diagnosis: the latest estimate's total"
    )
    due_in_business_minutes: int | None = Field(
        description="business minutes (the center's hours) to the next SLA due time; "
        "negative once it has passed; null while the clock is stopped"
    )


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None


def _person(user: Manager | User | None) -> dict[str, str] | None:
    return {"name": user.name, "role": user.role.value} if user else None


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    """``MoneyOut``'s fields as plain values."""
    return {"amount": format(quantize(amount, currency), "f"), "currency": currency}


def escalation_out(
    case: Escalation, *, now: datetime, viewer: User, folded: bool = False
) -> EscalationOut:
    return EscalationOut.model_validate({**_fields(case, now=now, viewer=viewer), "folded": folded})


def held_out(case: Escalation, *, now: datetime, viewer: User) -> HeldItem:
    """A held case for the moderation queue, with why it was held."""
    return HeldItem.model_validate(
        {**_fields(case, now=now, viewer=viewer), "moderation": moderation_of(case.guardrail)}
    )


def moderation_of(guardrail: dict[str, Any]) -> dict[str, Any]:
    """The held categories and their evidence from a stored decision's content rule.

    Decisions recorded before the categories were named list only the phrase hits
    (``<list>/<category>: <words>``); those are read back into the same shape.
    """
    rule = next((r for r in guardrail.get("rules", ()) if r.get("rule") == "content"), None)
    inputs: dict[str, Any] = (rule or {}).get("inputs", {})
    evidence = inputs.get("evidence")
    if evidence is None:  # an older decision
        parsed = [parse_match(m) for m in inputs.get("matches", ())]
        evidence = [
            {"category": e.category, "list": e.language, "words": e.words} for e in parsed if e
        ]
    categories = inputs.get("categories")
    if categories is None:
        categories = list(dict.fromkeys(e["category"] for e in evidence))
    return {"categories": categories, "evidence": evidence, "language": inputs.get("language")}


def guardrail_for(viewer: User, guardrail: dict[str, Any]) -> dict[str, Any]:
    """The decision as the viewer may see it: whole for staff, without inputs for customers."""
    return guardrail if access.sees_decision_inputs(viewer) else customer_view(guardrail)


GUARDRAIL_FIELDS = tuple(GuardrailOut.model_fields)


def shown_guardrail(viewer: User, guardrail: dict[str, Any]) -> dict[str, Any]:
    """``GuardrailOut``'s fields of the stored decision, as the viewer may see it."""
    shown = guardrail_for(viewer, guardrail)
    return {k: shown.get(k) for k in GUARDRAIL_FIELDS}


def open_and_answer(
    session: Session, clock: Clock, *, viewer: User, visit_id: int, body: EscalationCreate
) -> tuple[int, Any]:
    """A customer's request to escalate, decided and acted on (``open_escalation``), and
    its answer: the use case of ``POST /visits/{id}/escalations`` and of the web app's
    escalate form, each run under ``run_idempotent``."""
    opened = open_escalation(
        session,
        clock,
        viewer=viewer,
        visit_id=visit_id,
        category=body.category,
        subject_id=body.subject_id,
        reason=body.reason,
    )
    return opened_answer(opened, now=clock.now(), viewer=viewer)


def opened_answer(opened: Opened, *, now: datetime, viewer: User) -> tuple[int, Any]:
    """The status and JSON body answering a request to escalate (the API's, replayed
    under its Idempotency-Key; the web app's escalate form reads the same)."""
    if opened.escalation is None:
        shown = guardrail_for(viewer, opened.guardrail)
        error = NotEligible(str(shown["explanation"]), shown)
        return 422, error_body(error.code, error.message, error.details)
    # The assignee as the use case read it (a new case's is a row, not a relationship).
    fields = _case_fields(opened.escalation, _person(opened.assignee), now=now, viewer=viewer)
    # ``EscalationOut``'s JSON from the plain values, as the inbox's page is made (building
    # and dumping the model was ~0.1 ms of a create's 4 ms); a test checks it equals the
    # validated model's. Through orjson's text, so that the body is JSON-ready as stored
    # under an Idempotency-Key.
    body = orjson.loads(orjson.dumps({**fields, "folded": opened.folded}, option=orjson.OPT_UTC_Z))
    return (200 if opened.folded else 201), body


def preview_out(preview: Preview, *, viewer: User) -> PreviewOut:
    """A preview as the viewer may see it (a customer: without the decision's inputs)."""
    shown = guardrail_for(viewer, preview.guardrail)
    sla = None
    if preview.first_response_due is not None:
        sla = SlaOut(
            first_response_due=preview.first_response_due, resolution_due=preview.resolution_due
        )
    return PreviewOut(
        guardrail=GuardrailPreviewOut.model_validate(
            {
                **{k: shown.get(k) for k in GUARDRAIL_FIELDS},
                "assignee": _person(preview.assignee),
                "sla": sla,
                "folded_into": preview.folded_into,
            }
        ),
        time_zone=preview.time_zone,
    )


def _fields(case: Escalation, *, now: datetime, viewer: User) -> dict[str, Any]:
    """The case as ``EscalationOut``'s fields, in plain values (dicts, not models): the
    typed answers validate them, the inbox's page serializes them as they are."""
    return _case_fields(case, _person(case.assignee), now=now, viewer=viewer)


def _case_fields(
    case: Escalation, assignee: dict[str, str] | None, *, now: datetime, viewer: User
) -> dict[str, Any]:
    """``_fields`` with the assignee's ``PersonRef`` fields given."""
    # The stored decision has exactly the contract's fields per rule (Decision.as_json);
    # a test checks that the inbox's page equals the validated models'.
    guardrail = shown_guardrail(viewer, case.guardrail)
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
        "assignee": assignee,
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
    visit = entry.visit
    return {
        **_fields(entry.case, now=now, viewer=viewer),
        "context": _context_fields(visit, entry.earlier_visits),
        "customer": entry.case.customer.name,
        "center": {
            "code": visit.center_code,
            "name": visit.center_name,
            "time_zone": visit.time_zone,
        },
        "amount_at_stake": _at_stake(entry.case, visit),
        "due_in_business_minutes": _business_minutes_to(entry.case.sla_next_due, visit, now),
    }


def _at_stake(case: Escalation, visit: VisitDoc) -> dict[str, str] | None:
    """What the dispute is about in money (``InboxItem.amount_at_stake``)."""
    if case.category == Category.estimate:
        base = estimate_baseline(visit.estimates)
        subject = next((e for e in visit.estimates if e.id == case.subject_id), None)
        if base is None or subject is None:
            return None
        return _money(subject.total - base.total, subject.currency)
    if case.category == Category.warranty:
        decision = next((w for w in visit.warranty_decisions if w.id == case.subject_id), None)
        if decision is None:
            return None
        return _money(decision.claimed - decision.covered, decision.currency)
    if visit.estimates:
        latest = visit.estimates[-1]
        return _money(latest.total, latest.currency)
    return None


def _business_minutes_to(due: datetime | None, visit: VisitDoc, now: datetime) -> int | None:
    return business_minutes_to(
        due, now, visit.time_zone, visit.country, visit.business_hours, visit.closed_dates
    )


def business_minutes_to(
    due: datetime | None,
    now: datetime,
    time_zone: str,
    country: str,
    business_hours: dict[str, list[str]],
    closed_dates: list[str],
) -> int | None:
    """Business minutes from now to ``due`` in the center's hours; negative past it."""
    if due is None:
        return None
    hours = opening_hours(time_zone, country, business_hours, closed_dates)
    return business_minutes_within(hours, due, now)


def business_minutes_within(hours: OpeningHours, due: datetime, now: datetime) -> int:
    """``business_minutes_to`` in hours already built (the inbox's page: once a center)."""
    if due >= now:
        return int(business_time_between(hours, now, due).total_seconds() // 60)
    return -int(business_time_between(hours, due, now).total_seconds() // 60)


def inbox_page_json(
    entries: Sequence[InboxEntry], *, now: datetime, viewer: User, next_cursor: str | None
) -> bytes:
    """An ``InboxPage`` as JSON, serialized from plain values without building the models:
    a page is ~50 cases with their visits, and validating ~1,000 nested models cost more
    than the rest of the request (tests check it equals the validated ``InboxPage``)."""
    items = [inbox_item_json(entry, now=now, viewer=viewer) for entry in entries]
    return page_json(items, next_cursor)


def inbox_item_json(entry: InboxEntry, *, now: datetime, viewer: User) -> bytes:
    """One ``InboxItem`` as JSON (from plain values, as ``inbox_page_json``)."""
    return orjson.dumps(_inbox_fields(entry, now=now, viewer=viewer), option=orjson.OPT_UTC_Z)


def page_json(items: Sequence[bytes], next_cursor: str | None) -> bytes:
    """A list page from its items' JSON texts."""
    return b'{"items":[%b],"next_cursor":%b}' % (b",".join(items), orjson.dumps(next_cursor))
