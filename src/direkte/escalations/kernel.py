"""The change-recording kernel of escalations: transitions, timeline, audit and outbox rows,
assignment and the SLA start, shared by every use case (which never call one another)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.service import Actor, audit_row, record_events
from direkte.escalations import sla
from direkte.escalations.errors import (
    EscalationNotFound,
    InvalidTransition,
)
from direkte.escalations.facts import Manager, Staff
from direkte.escalations.models import (
    Escalation,
    EscalationEvent,
    EscalationMessage,
    EscalationRequest,
    EscalationStatus,
    MessageKind,
)
from direkte.guardrails.engine import Decision, Facts
from direkte.guardrails.policy import Policy
from direkte.marks import mark_dirty
from direkte.network.models import Center, User
from direkte.network.service import (
    find_advisor,
    find_local_manager,
    find_regional_manager,
)
from direkte.notifications.service import emit_row, outbox_row
from direkte.visits.models import Visit

S = EscalationStatus
_TRANSITIONS: dict[EscalationStatus, frozenset[EscalationStatus]] = {
    S.held: frozenset({S.open, S.rejected, S.withdrawn}),
    S.open: frozenset({S.acknowledged, S.awaiting_customer, S.resolved, S.withdrawn}),
    S.acknowledged: frozenset({S.awaiting_customer, S.resolved, S.withdrawn}),
    S.awaiting_customer: frozenset({S.acknowledged, S.resolved, S.withdrawn}),
    S.resolved: frozenset({S.closed, S.open}),
    S.closed: frozenset(),
    S.withdrawn: frozenset(),
    S.rejected: frozenset(),
}


def transition(
    session: Session,
    case: Escalation,
    target: EscalationStatus,
    *,
    at: datetime,
    actor: Actor,
    kind: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    if target not in _TRANSITIONS[case.status]:
        raise InvalidTransition(
            f"a {case.status.value} case cannot become {target.value}",
            {"current_status": case.status.value, "requested_status": target.value},
        )
    previous = case.status
    case.status = target
    touch(case, at)
    log_change(
        session,
        case,
        kind or f"status.{target.value}",
        at=at,
        actor=actor,
        from_status=previous.value,
        to_status=target.value,
        data=data,
    )


# Timeline events and request records are only ever appended: Core inserts,
# without the ORM unit of work.
INSERT_EVENT = sa.insert(EscalationEvent)
INSERT_REQUEST = sa.insert(EscalationRequest)


def touch(case: Escalation, at: datetime) -> None:
    case.version += 1
    case.updated_at = at


def log_rows(
    case: Escalation,
    kind: str,
    *,
    at: datetime,
    actor: Actor,
    from_status: str | None = None,
    to_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The timeline event and the audit event of a change to ``case``."""
    event = {
        "escalation_id": case.id,
        "at": at,
        "kind": kind,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "from_status": from_status,
        "to_status": to_status,
        "data": data or {},
    }
    audit = audit_row(
        at=at,
        actor=actor,
        action=f"escalation.{kind}",
        subject_kind="escalation",
        subject_id=case.id,
        visit_id=case.visit_id,
        data={"from": from_status, "to": to_status, **(data or {})},
    )
    return event, audit


def log_change(
    session: Session,
    case: Escalation,
    kind: str,
    *,
    at: datetime,
    actor: Actor,
    from_status: str | None = None,
    to_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    event, audit = log_rows(
        case, kind, at=at, actor=actor, from_status=from_status, to_status=to_status, data=data
    )
    session.connection().execute(INSERT_EVENT, event)
    record_events(session, [audit])
    mark_case(session, case, at)


def mark_case(session: Session, case: Escalation, at: datetime) -> None:
    """Mark the days whose figures a change of ``case`` at ``at`` may alter: the day of
    the change and of each of the case's times (one it had may be about to move)."""
    mark_dirty(
        session,
        case.center_id,
        [at, case.created_at, case.first_response_at, case.resolved_at, case.rated_at],
    )


# Who is told what (DESIGN §7a), the one rule. Decided here, when the change is
# recorded, because the change knows who was involved (the assignee a breach took the
# case from, the ops on duty when a request is held); delivery only fans out, renders
# and sends. Topics missing here tell nobody (a rating, a withdrawal's timeline).
_TO_ASSIGNEE = frozenset(
    {"escalation.opened", "escalation.approved", "escalation.appealed", "escalation.withdrawn"}
)
_TO_CUSTOMER = frozenset({"escalation.acknowledged", "escalation.resolved", "escalation.rejected"})


def recipients_for(
    case: Escalation, topic: str, extra: list[int | None], payload: dict[str, Any]
) -> list[int | None]:
    """Who is told of ``topic`` on ``case``: a new, released or appealed case its
    assignee; a breach (``extra``: the local manager it left) the regional and the
    local manager; an acknowledgement, a staff reply, a resolution or a rejection the
    customer; a customer's message the assignee; a held request ``extra`` (ops)."""
    if topic in _TO_ASSIGNEE:
        return [case.assignee_id]
    if topic in _TO_CUSTOMER:
        return [case.customer_id]
    if topic == "escalation.message":
        return [case.customer_id if payload.get("author") == "staff" else case.assignee_id]
    if topic in ("escalation.auto_escalated", "escalation.held"):
        return [case.assignee_id, *extra] if case.assignee_id else list(extra)
    return []


def is_safety_case(case: Escalation) -> bool:
    """Whether the guardrails took the case as safety-related (it bypasses quiet hours)."""
    rules = (case.guardrail or {}).get("rules") or []
    return any(
        bool(r.get("inputs", {}).get("safety_override") or r.get("inputs", {}).get("safety_exempt"))
        for r in rules
    )


def notify_row(
    case: Escalation,
    topic: str,
    at: datetime,
    extra: list[int | None] | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """The outbox event of a change to ``case``, addressed by ``recipients_for``."""
    body = {
        "escalation_id": case.id,
        "status": case.status.value,
        "tier": case.tier,
        "center_id": case.center_id,
        "safety": is_safety_case(case),
        **payload,
    }
    return outbox_row(
        at=at,
        topic=topic,
        aggregate_kind="escalation",
        aggregate_id=case.id,
        recipients=recipients_for(case, topic, list(extra or []), body),
        payload=body,
    )


def notify(
    session: Session,
    case: Escalation,
    topic: str,
    at: datetime,
    extra: list[int | None] | None = None,
    **payload: Any,
) -> None:
    emit_row(session, notify_row(case, topic, at, extra, **payload))


# ---- opening -----------------------------------------------------------------------


def request_row(
    *,
    at: datetime,
    kind: str,
    visit: Visit,
    customer: User,
    category: str,
    subject_id: int | None,
    reason: str,
    facts: Facts,
    decision: Decision,
    guardrail: dict[str, Any],
    escalation_id: int | None,
) -> dict[str, Any]:
    """The record of a request with the facts and the decision it was made on."""
    return {
        "created_at": at,
        "kind": kind,
        "visit_id": visit.id,
        "customer_id": customer.id,
        "center_id": visit.center_id,
        "category": category,
        "subject_id": subject_id,
        "reason": reason,
        "facts": facts.as_json(),
        "decision": decision.decision,
        "tier": decision.tier,
        "policy_version": decision.policy_version,
        "result": guardrail,
        "escalation_id": escalation_id,
        "folded": decision.folded_into is not None,
    }


def record_request(session: Session, **request: Any) -> None:
    row = request_row(**request)
    session.connection().execute(INSERT_REQUEST, row)
    mark_dirty(session, row["center_id"], [row["created_at"]])


def guardrail_json(decision: Decision, explanation: str) -> dict[str, Any]:
    body = decision.as_json()
    return {
        "decision": body["decision"],
        "tier": body["tier"],
        "policy_version": body["policy_version"],
        "rules": body["rules"],
        "explanation": explanation,
        "reason": body["reason"],
    }


def assign(session: Session, case: Escalation, center: Center, visit: Visit) -> None:
    """Give the case to the person its tier names; tier 1 with no manager goes to tier 2."""
    if case.tier == 1:
        manager = find_local_manager(session, center)
        if manager is None:
            case.tier = 2
        else:
            case.assignee_id = manager.id
            return
    if case.tier == 2:
        regional = find_regional_manager(session, center)
        case.assignee_id = regional.id if regional else None
        return
    advisor = find_advisor(session, center, visit.advisor_id)
    case.assignee_id = advisor.id if advisor else None


def staff_user(session: Session, user_id: int | None, staff: Staff) -> Manager | User | None:
    """The user ``user_id``: one of the managers ``staff`` holds, else read."""
    if user_id is None:
        return None
    return staff.user(user_id) or session.get(User, user_id)


def place(
    session: Session,
    case: Escalation,
    center: Center,
    visit: Visit,
    assignee_id: int | None,
    policy: Policy,
    now: datetime,
) -> None:
    """Give a routed case its assignee and start its SLA clock."""
    if assignee_id is not None:
        case.assignee_id = assignee_id
    else:
        assign(session, case, center, visit)
    sla.start_clock(case, sla.hours_of(center), policy, now)


def add_message(
    session: Session,
    case: Escalation,
    author: User,
    kind: MessageKind,
    body: str,
    at: datetime,
    *,
    called_at: datetime | None = None,
    duration_seconds: int | None = None,
) -> EscalationMessage:
    message = EscalationMessage(
        escalation_id=case.id,
        kind=kind,
        author_id=author.id,
        author_role=author.role.value,
        author_name=author.name,
        body=body,
        created_at=at,
        called_at=called_at,
        duration_seconds=duration_seconds,
    )
    session.add(message)
    return message


def visible_cases(viewer: User) -> sa.ColumnElement[bool]:
    """The filter on cases that the viewer may see (``access.case_filter``)."""
    return access.case_filter(
        viewer,
        customer_id=Escalation.customer_id,
        center_id=Escalation.center_id,
        held_back=Escalation.held_back,
    )


def get_escalation(
    session: Session, *, viewer: User, escalation_id: int, lock: bool = False
) -> Escalation:
    """The case, if the viewer may see it. Raises EscalationNotFound otherwise."""
    query = sa.select(Escalation).where(Escalation.id == escalation_id, visible_cases(viewer))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = session.scalars(query).first()
    if case is None:
        raise EscalationNotFound("escalation not found")
    return case


def get_case_to_act_on(session: Session, *, viewer: User, escalation_id: int) -> Escalation:
    """The case, locked, if the viewer may see it and act on it at its tier.

    Raises StaffOnly, EscalationNotFound, NotCaseHandler.
    """
    access.require_staff(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    deputy = case.assignee.deputy_id if case.assignee is not None else None
    access.require_case_handler(viewer, case, assignee_deputy_id=deputy)
    return case
