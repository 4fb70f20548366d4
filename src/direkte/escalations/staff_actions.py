"""What staff do on a case: acknowledge, resolve, write, note, log a call."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from direkte import access, money
from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.escalations import sla
from direkte.escalations.errors import (
    InvalidOutcome,
    InvalidTransition,
    StaleVersion,
)
from direkte.escalations.facts import earlier_resolvers, money_in_dispute
from direkte.escalations.kernel import (
    S,
    add_message,
    get_case_to_act_on,
    get_escalation,
    log_change,
    notify,
    touch,
    transition,
)
from direkte.escalations.models import (
    ACTIVE,
    Escalation,
    EscalationMessage,
    MessageKind,
    Outcome,
)
from direkte.network.models import Role, User


def acknowledge_escalation(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int
) -> Escalation:
    """Staff take up an open case (its first response).

    Raises EscalationNotFound, InvalidTransition.
    """
    case = get_case_to_act_on(session, viewer=viewer, escalation_id=escalation_id)
    now = clock.now()
    transition(session, case, S.acknowledged, at=now, actor=Actor.user(viewer))
    sla.record_first_response(case, now)
    notify(session, case, "escalation.acknowledged", now)
    return case


def resolve_escalation(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    escalation_id: int,
    outcome: Outcome,
    amount_delta: str,
    note: str,
    version: int,
) -> Escalation:
    """Record the outcome, the money delta and the customer's note.

    Raises EscalationNotFound, NotCaseHandler, OwnOutcome (an appeal against the
    viewer's own outcome), StaleVersion, InvalidTransition, InvalidOutcome.
    """
    case = get_case_to_act_on(session, viewer=viewer, escalation_id=escalation_id)
    if case.version != version:
        raise StaleVersion(
            "the case changed since you read it; reload it",
            {"current_version": case.version, "your_version": version},
        )
    try:
        delta = money.parse_amount(amount_delta, case.currency)
    except ValueError as exc:
        raise InvalidOutcome(str(exc), [{"field": "amount_delta", "message": str(exc)}]) from None
    if outcome == Outcome.upheld and delta != 0:
        raise InvalidOutcome(
            "an upheld decision changes nothing: amount_delta must be 0",
            [{"field": "amount_delta", "message": "must be 0 when upheld"}],
        )
    if outcome == Outcome.goodwill and delta >= 0:
        raise InvalidOutcome(
            "goodwill lowers what the customer pays: use a negative amount",
            [{"field": "amount_delta", "message": "must be negative"}],
        )
    _check_within_dispute(session, case, delta)
    if case.appealed_at is not None:
        access.require_not_own_outcome(viewer, earlier_resolvers(session, case))
    now = clock.now()
    transition(
        session,
        case,
        S.resolved,
        at=now,
        actor=Actor.user(viewer),
        data={"outcome": outcome.value, "amount_delta": str(delta)},
    )
    sla.record_first_response(case, now)
    sla.stop_clock(case)
    case.outcome, case.amount_delta, case.outcome_note = outcome, delta, note
    case.outcome_tier, case.resolved_at = case.tier, now
    notify(session, case, "escalation.resolved", now, outcome=outcome.value)
    return case


def _check_within_dispute(session: Session, case: Escalation, delta: Decimal) -> None:
    """Raise InvalidOutcome when the delta is larger than the money in dispute."""
    in_dispute = money_in_dispute(session, case)
    if abs(delta) > in_dispute:
        limit = f"{in_dispute} {case.currency}"
        raise InvalidOutcome(
            f"amount_delta cannot exceed the money in dispute ({limit})",
            [{"field": "amount_delta", "message": f"at most {limit} either way"}],
        )


def post_message(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    escalation_id: int,
    body: str,
    await_customer: bool = False,
) -> EscalationMessage:
    """Add a message to the thread, either way.

    A staff message is a first response and may put the case to wait on the
    customer (pausing the SLA clock); the customer's reply resumes it.
    A held case takes no messages until ops release it. Raises
    EscalationNotFound, NotCaseHandler, InvalidTransition.
    """
    if access.is_staff(viewer):
        case = get_case_to_act_on(session, viewer=viewer, escalation_id=escalation_id)
    else:
        case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    if case.status not in (*ACTIVE, S.resolved):
        raise InvalidTransition(
            f"the case is {case.status.value}", {"current_status": case.status.value}
        )
    now = clock.now()
    actor = Actor.user(viewer)
    message = add_message(session, case, viewer, MessageKind.message, body, now)
    hours = sla.hours_of(case.visit.center)
    if viewer.role == Role.customer:
        if case.status == S.awaiting_customer:
            transition(session, case, S.acknowledged, at=now, actor=actor, kind="customer_replied")
            sla.resume_clock(case, hours, now)
        else:
            touch(case, now)
        notify(session, case, "escalation.message", now, author="customer")
        return message
    if case.status in ACTIVE:
        sla.record_first_response(case, now)
    if await_customer and case.status != S.awaiting_customer:
        transition(session, case, S.awaiting_customer, at=now, actor=actor)
        sla.pause_clock(case, now)
    else:
        touch(case, now)
    notify(session, case, "escalation.message", now, author="staff")
    return message


def add_note(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int, body: str
) -> EscalationMessage:
    """A staff-only note; the customer never sees it. Raises EscalationNotFound, StaffOnly."""
    case = get_case_to_act_on(session, viewer=viewer, escalation_id=escalation_id)
    now = clock.now()
    note = add_message(session, case, viewer, MessageKind.note, body, now)
    touch(case, now)
    record_event(
        session,
        at=now,
        actor=Actor.user(viewer),
        action="escalation.note_added",
        subject_kind="escalation",
        subject_id=case.id,
        visit_id=case.visit_id,
    )
    return note


def log_call(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    escalation_id: int,
    summary: str,
    called_at: datetime | None,
    duration_seconds: int | None,
) -> EscalationMessage:
    """Log a call with the customer (a first response). Raises EscalationNotFound, StaffOnly."""
    case = get_case_to_act_on(session, viewer=viewer, escalation_id=escalation_id)
    now = clock.now()
    call = add_message(
        session,
        case,
        viewer,
        MessageKind.call,
        summary,
        now,
        called_at=called_at or now,
        duration_seconds=duration_seconds,
    )
    if case.status in ACTIVE:
        sla.record_first_response(case, now)
    touch(case, now)
    log_change(
        session,
        case,
        "call_logged",
        at=now,
        actor=Actor.user(viewer),
        data={"duration_seconds": duration_seconds},
    )
    return call
