"""What the customer does on a case: withdraw, appeal, rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.service import Actor
from direkte.clock import Clock
from direkte.escalations import sla
from direkte.escalations.errors import (
    AlreadyAppealed,
    AlreadyRated,
    AppealNotAllowed,
    AppealWindowClosed,
    InvalidTransition,
)
from direkte.escalations.facts import earlier_resolvers
from direkte.escalations.kernel import (
    S,
    add_message,
    assign,
    get_escalation,
    guardrail_json,
    log_change,
    notify,
    record_request,
    touch,
    transition,
)
from direkte.escalations.models import (
    Escalation,
    MessageKind,
)
from direkte.guardrails.engine import Decision, Facts, evaluate
from direkte.guardrails.explanations import explain
from direkte.guardrails.policy import Policy
from direkte.network.models import Center, Role, User
from direkte.policy.service import policy_for_center


def withdraw_escalation(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int
) -> Escalation:
    """The customer withdraws a case before it is resolved. Raises InvalidTransition."""
    access.require_customer(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    now = clock.now()
    transition(session, case, S.withdrawn, at=now, actor=Actor.user(viewer))
    sla.stop_clock(case)
    case.closed_at = now
    notify(session, case, "escalation.withdrawn", now)
    return case


@dataclass(frozen=True, slots=True)
class Appealed:
    escalation: Escalation
    decision: Decision
    guardrail: dict[str, Any]


def appeal_escalation(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    escalation_id: int,
    reason: str,
    policy: Policy | None = None,
) -> Appealed:
    """Appeal a tier-1 outcome to tier 2, once, within the window; the request is recorded.

    A refusal returns the decision (the caller commits the record, then raises
    ``appeal_refusal(appealed, shown)``). Raises EscalationNotFound, CustomersOnly.
    """
    access.require_customer(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    policy = policy or policy_for_center(session, case.visit.center)
    now = clock.now()
    facts = _appeal_facts(case)
    decision = evaluate(policy, facts, now)

    def record(guardrail: dict[str, Any]) -> None:
        record_request(
            session,
            at=now,
            kind="appeal",
            visit=case.visit,
            customer=viewer,
            category=case.category.value,
            subject_id=case.subject_id,
            reason=reason,
            facts=facts,
            decision=decision,
            guardrail=guardrail,
            escalation_id=case.id,
        )

    if decision.decision == "reject":
        guardrail = guardrail_json(
            decision, explain(decision.reason, viewer.language, days=policy.appeal_window_days)
        )
        record(guardrail)
        return Appealed(case, decision, guardrail)
    guardrail = guardrail_json(
        decision, _reopen_at_tier_2(session, case, viewer, reason, policy, now)
    )
    record(guardrail)
    return Appealed(case, decision, guardrail)


@dataclass(frozen=True, slots=True)
class AppealPreview:
    """Whether the customer may appeal the case now, why not (in their language), and
    until when they may."""

    allowed: bool
    explanation: str | None
    window_ends: datetime | None


def preview_appeal(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    escalation_id: int,
    language: str | None = None,
) -> AppealPreview:
    """Ask the guardrails whether an appeal would be allowed now; nothing is recorded.

    Raises EscalationNotFound, CustomersOnly.
    """
    access.require_customer(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id)
    policy = policy_for_center(session, case.visit.center)
    decision = evaluate(policy, _appeal_facts(case), clock.now())
    window_ends = (
        case.resolved_at + timedelta(days=policy.appeal_window_days) if case.resolved_at else None
    )
    if decision.decision == "reject":
        explanation = explain(
            decision.reason, language or viewer.language, days=policy.appeal_window_days
        )
        return AppealPreview(False, explanation, window_ends)
    return AppealPreview(True, None, window_ends)


def _appeal_facts(case: Escalation) -> Facts:
    visit, center = case.visit, case.visit.center
    return Facts(
        kind="appeal",
        category=case.category.value,
        program=center.program.value,
        visit_status=visit.status.value,
        visit_checked_in_at=visit.checked_in_at,
        visit_closed_at=visit.closed_at,
        subject_id=case.subject_id,
        subject_belongs=True,
        case_status=case.status.value,
        case_outcome_tier=case.outcome_tier,
        case_resolved_at=case.resolved_at,
        case_appealed=case.appealed_at is not None,
    )


def _reopen_at_tier_2(
    session: Session, case: Escalation, customer: User, reason: str, policy: Policy, now: datetime
) -> str:
    """Reopen the case at tier 2 with a new SLA, the appeal's reason in the thread;
    returns the explanation the customer reads."""
    previous = {
        "outcome": case.outcome.value if case.outcome else None,
        "amount_delta": str(case.amount_delta),
        "tier": case.tier,
    }
    actor = Actor.user(customer)
    transition(session, case, S.open, at=now, actor=actor, kind="appealed", data=previous)
    case.appealed_at, case.appeal_reason = now, reason
    case.outcome = case.amount_delta = case.outcome_note = case.resolved_at = None
    old_assignee = case.assignee_id
    case.tier = 2
    center = case.visit.center
    assign(session, case, center, case.visit)
    _not_to_the_resolver(session, case, center)
    sla.start_clock(case, sla.hours_of(center), policy, now)
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    add_message(session, case, customer, MessageKind.message, reason, now)
    log_change(
        session,
        case,
        "reassigned",
        at=now,
        actor=actor,
        data={"from_assignee_id": old_assignee, "to_assignee_id": case.assignee_id, "tier": 2},
    )
    notify(session, case, "escalation.appealed", now, extra=[old_assignee])
    return explain(
        "appeal_routed",
        customer.language,
        due=case.first_response_due,
        time_zone=center.time_zone,
        name=assignee.name if assignee else "",
    )


def _not_to_the_resolver(session: Session, case: Escalation, center: Center) -> None:
    """Give the appeal to someone other than who gave the outcome under appeal: the
    assignee's deputy, else another regional manager of the region, else nobody yet
    (any regional manager of the region but the resolver may then take it up)."""
    resolvers = earlier_resolvers(session, case)
    if case.assignee_id not in resolvers:
        return
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    deputy = assignee.deputy if assignee is not None else None
    if deputy is not None and deputy.active and deputy.id not in resolvers:
        case.assignee_id = deputy.id
        return
    others = session.scalars(
        sa.select(User.id)
        .where(
            User.role == Role.regional_manager,
            User.region_id == center.region_id,
            User.active,
            User.id.not_in(resolvers),
        )
        .order_by(User.on_duty.desc(), User.id)
        .limit(1)
    ).first()
    case.assignee_id = others


def appeal_refusal(appealed: Appealed, shown: dict[str, Any]) -> Exception:
    """The error that answers a refused appeal, carrying the decision as ``shown``."""
    reason = appealed.decision.reason
    details = shown
    message = str(details["explanation"])
    if reason == "appeal.first_appeal":
        return AlreadyAppealed(message, details)
    if reason == "appeal.within_window":
        return AppealWindowClosed(message, details)
    if reason == "appeal.has_outcome":
        return InvalidTransition(
            message, {**details, "current_status": appealed.escalation.status.value}
        )
    return AppealNotAllowed(message, details)


def rate_escalation(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    escalation_id: int,
    score: int,
    comment: str | None,
) -> Escalation:
    """The customer rates the handling 1 to 5, once, after the outcome.

    Raises InvalidTransition (no outcome yet), AlreadyRated.
    """
    access.require_customer(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    if case.rating_score is not None:
        raise AlreadyRated("you have rated this case", {"score": case.rating_score})
    if case.status not in (S.resolved, S.closed) or case.outcome is None:
        raise InvalidTransition(
            "rate the case once it has an outcome", {"current_status": case.status.value}
        )
    now = clock.now()
    case.rating_score, case.rating_comment, case.rated_at = score, comment, now
    touch(case, now)
    log_change(session, case, "rated", at=now, actor=Actor.user(viewer), data={"score": score})
    notify(session, case, "escalation.rated", now, score=score)
    return case
