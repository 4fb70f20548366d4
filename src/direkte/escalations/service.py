"""Use cases on escalations: open, act on, converse, appeal, rate, and the SLA sweep.

Every change is one transaction made by the caller's commit: the case, its
timeline event, its audit event and its outbox event together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, load_only, selectinload

from direkte import money
from direkte.audit.service import Actor, audit_row, record_event, record_events
from direkte.clock import Clock
from direkte.escalations import sla
from direkte.escalations.appends import NewCase, insert_new_case
from direkte.escalations.errors import (
    AlreadyAppealed,
    AlreadyRated,
    AppealNotAllowed,
    AppealWindowClosed,
    CustomersOnly,
    EscalationNotFound,
    InvalidOutcome,
    InvalidTransition,
    OpsOnly,
    StaffOnly,
    StaleVersion,
)
from direkte.escalations.facts import Staff, gather_facts, load_staff
from direkte.escalations.models import (
    ACTIVE,
    Category,
    Escalation,
    EscalationEvent,
    EscalationMessage,
    EscalationRequest,
    EscalationStatus,
    MessageKind,
    Outcome,
)
from direkte.guardrails.content_facts import content_facts
from direkte.guardrails.engine import Decision, Facts, evaluate
from direkte.guardrails.explanations import explain
from direkte.guardrails.policy import Policy, policy_for
from direkte.network.models import Center, Role, User
from direkte.network.service import (
    find_advisor,
    find_local_manager,
    find_regional_manager,
)
from direkte.notifications.service import emit_row, outbox_row
from direkte.policy.service import (
    current_policy,
    merged_policy,
    policy_columns,
    policy_for_center,
)
from direkte.visits.models import Visit
from direkte.visits.service import VisitNotFound, visit_with_revisions

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


def actor_of(user: User) -> Actor:
    return Actor("user", user.id, user.email)


# ---- reading and access ------------------------------------------------------------


def _visible(user: User) -> sa.ColumnElement[bool]:
    if user.role == Role.customer:
        return Escalation.customer_id == user.id
    if user.role in (Role.service_advisor, Role.local_manager):
        return Escalation.center_id == (user.center_id or -1)
    if user.role == Role.regional_manager:
        centers = sa.select(Center.id).where(Center.region_id == (user.region_id or -1))
        return Escalation.center_id.in_(centers.scalar_subquery())
    return sa.false()


def get_escalation(
    session: Session, *, viewer: User, escalation_id: int, lock: bool = False
) -> Escalation:
    """The case, if the viewer may see it. Raises EscalationNotFound otherwise."""
    query = sa.select(Escalation).where(Escalation.id == escalation_id, _visible(viewer))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = session.scalars(query).first()
    if case is None:
        raise EscalationNotFound("escalation not found")
    return case


def _transition(
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
    _touch(case, at)
    _log(
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
_INSERT_EVENT = sa.insert(EscalationEvent)
_INSERT_REQUEST = sa.insert(EscalationRequest)
# A customer's own visit, locked, with its center (the create path's first read): only
# the columns the facts, the decision and the case read (18 of 33; any other is read
# on first use).
_CUSTOMER_VISIT = (
    sa.select(Visit, *policy_columns(Visit.center_id))
    .options(
        load_only(
            Visit.id,
            Visit.center_id,
            Visit.customer_id,
            Visit.vehicle_id,
            Visit.advisor_id,
            Visit.status,
            Visit.currency,
            Visit.checked_in_at,
            Visit.closed_at,
            Visit.drivable,
            Visit.created_at,
        ),
        joinedload(Visit.center).load_only(
            Center.id,
            Center.region_id,
            Center.program,
            Center.time_zone,
            Center.country,
            Center.business_hours,
            Center.closed_dates,
        ),
    )
    .where(Visit.id == sa.bindparam("visit_id"), Visit.customer_id == sa.bindparam("customer_id"))
    .with_for_update(of=Visit)
)


# A new case and the rows that name it are inserted with Core (escalations/appends.py),
# not flushed by the unit of work (the create path's most frequent writes); the case
# object stays outside the session: the request only reads it back into its response.
_CASE_COLUMNS = tuple(a.key for a in sa.inspect(Escalation).column_attrs if a.key != "id")


def _case_row(case: Escalation) -> dict[str, Any]:
    """A new case's set attributes (the unset ones are all NULL)."""
    state = case.__dict__
    return {key: state[key] for key in _CASE_COLUMNS if key in state}


def _first_message_row(case: Escalation, customer: User, at: datetime) -> dict[str, Any]:
    """The customer's reason, as the first message of the case's thread (no case id yet)."""
    return {
        "kind": MessageKind.message,
        "author_id": customer.id,
        "author_role": customer.role.value,
        "author_name": customer.name,
        "body": case.reason,
        "called_at": None,
        "duration_seconds": None,
        "created_at": at,
    }


def _touch(case: Escalation, at: datetime) -> None:
    case.version += 1
    case.updated_at = at


def _log_rows(
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


def _log(
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
    event, audit = _log_rows(
        case, kind, at=at, actor=actor, from_status=from_status, to_status=to_status, data=data
    )
    session.connection().execute(_INSERT_EVENT, event)
    record_events(session, [audit])


def _notify_row(
    case: Escalation,
    topic: str,
    at: datetime,
    extra: list[int | None] | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """The outbox event of a change to ``case``."""
    return outbox_row(
        at=at,
        topic=topic,
        aggregate_kind="escalation",
        aggregate_id=case.id,
        recipients=[case.customer_id, case.assignee_id, *(extra or [])],
        payload={
            "escalation_id": case.id,
            "status": case.status.value,
            "tier": case.tier,
            **payload,
        },
    )


def _notify(
    session: Session,
    case: Escalation,
    topic: str,
    at: datetime,
    extra: list[int | None] | None = None,
    **payload: Any,
) -> None:
    emit_row(session, _notify_row(case, topic, at, extra, **payload))


# ---- opening -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """What became of a request: a new case, a fold into the open one, or a rejection."""

    escalation: Escalation | None
    decision: Decision
    guardrail: dict[str, Any]
    folded: bool


def _request_row(
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


def _record_request(session: Session, **request: Any) -> None:
    session.connection().execute(_INSERT_REQUEST, _request_row(**request))


def _guardrail_json(decision: Decision, explanation: str) -> dict[str, Any]:
    body = decision.as_json()
    return {
        "decision": body["decision"],
        "tier": body["tier"],
        "policy_version": body["policy_version"],
        "rules": body["rules"],
        "explanation": explanation,
        "reason": body["reason"],
    }


def _assign(session: Session, case: Escalation, center: Center, visit: Visit) -> None:
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


def open_escalation(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    visit_id: int,
    category: Category,
    subject_id: int,
    reason: str,
    policy: Policy | None = None,
) -> Opened:
    """Decide a customer's request and act on it; every request is recorded.

    Locks the visit so that concurrent requests cannot open two cases for one
    visit and category. A rejection returns ``escalation=None`` (the caller
    commits the record, then answers 422); a moderated request makes a held
    case that nobody is told of until ops approve it. Raises CustomersOnly,
    VisitNotFound.
    """
    if viewer.role != Role.customer:
        raise CustomersOnly("only the customer who owns the visit can escalate")
    row = session.execute(_CUSTOMER_VISIT, {"visit_id": visit_id, "customer_id": viewer.id}).first()
    if row is None:
        raise VisitNotFound("visit not found")
    visit = row[0]
    now = clock.now()
    center = visit.center
    policy = policy or merged_policy(row.policy_region, row.policy_version, row.policy_text)
    staff = load_staff(session, center)
    facts = gather_facts(
        session,
        visit=visit,
        customer=viewer,
        category=category,
        subject_id=subject_id,
        reason=reason,
        content=content_facts(reason),
        now=now,
        staff=staff,
    )
    decision = evaluate(policy, facts, now)
    language = viewer.language

    def request_row(guardrail: dict[str, Any], escalation_id: int | None) -> dict[str, Any]:
        return _request_row(
            at=now,
            kind="create",
            visit=visit,
            customer=viewer,
            category=category.value,
            subject_id=subject_id,
            reason=reason,
            facts=facts,
            decision=decision,
            guardrail=guardrail,
            escalation_id=escalation_id,
        )

    def record(guardrail: dict[str, Any], escalation_id: int | None) -> None:
        session.connection().execute(_INSERT_REQUEST, request_row(guardrail, escalation_id))

    if decision.decision == "reject":
        guardrail = _guardrail_json(
            decision,
            explain(
                decision.reason,
                language,
                days=policy.escalation_window_days,
                limit=policy.frequency.max_per_365_days,
                cooldown=policy.frequency.cooldown_days,
            ),
        )
        record(guardrail, None)
        return Opened(None, decision, guardrail, folded=False)
    if decision.folded_into is not None:
        open_case = session.get_one(Escalation, decision.folded_into)
        guardrail = _guardrail_json(decision, explain("folded", language))
        record(guardrail, open_case.id)
        _add_message(session, open_case, viewer, MessageKind.message, reason, now)
        _touch(open_case, now)
        _log(
            session,
            open_case,
            "folded",
            at=now,
            actor=actor_of(viewer),
            data={"subject_id": subject_id, "category": category.value},
        )
        return Opened(open_case, decision, open_case.guardrail, folded=True)
    held = decision.decision == "moderate"
    case = Escalation(
        visit_id=visit.id,
        customer_id=viewer.id,
        center_id=center.id,
        category=category,
        subject_id=subject_id,
        reason=reason,
        status=S.held if held else S.open,
        tier=decision.tier if decision.tier is not None else 1,
        version=1,
        created_at=now,
        updated_at=now,
        currency=visit.currency,
        guardrail={},
    )
    if not held:
        _place(session, case, center, visit, decision.assignee_id, policy, now)
    # The managers loaded above, held here: the session's identity map holds its
    # objects weakly, so an unreferenced one would be read again.
    assignee = _user(session, case.assignee_id, staff)
    case.assignee = assignee
    case.guardrail = _guardrail_json(
        decision,
        explain(
            "held" if held else f"routed.tier{case.tier}",
            language,
            due=case.first_response_due,
            time_zone=center.time_zone,
            name=assignee.name if assignee else "",
        ),
    )
    event, audit = _log_rows(
        case,
        "held" if held else "opened",
        at=now,
        actor=actor_of(viewer),
        to_status=case.status.value,
        data={"tier": case.tier, "assignee_id": case.assignee_id},
    )
    case.id = insert_new_case(
        session,
        NewCase(
            case=_case_row(case),
            request=request_row(case.guardrail, None),
            message=_first_message_row(case, viewer, now),
            event=event,
            audit=audit,
            outbox=_notify_row(case, "escalation.held" if held else "escalation.opened", now),
        ),
    )
    return Opened(case, decision, case.guardrail, folded=False)


def _user(session: Session, user_id: int | None, staff: Staff) -> User | None:
    """The user ``user_id``: one of the managers ``staff`` holds, else read."""
    if user_id is None:
        return None
    return staff.user(user_id) or session.get(User, user_id)


def _place(
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
        _assign(session, case, center, visit)
    sla.start_clock(case, sla.hours_of(center), policy, now)


# ---- staff actions -----------------------------------------------------------------


def _staff(viewer: User) -> None:
    if viewer.role == Role.customer:
        raise StaffOnly("staff only")


def acknowledge_escalation(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int
) -> Escalation:
    """Staff take up an open case (its first response).

    Raises EscalationNotFound, InvalidTransition.
    """
    _staff(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    now = clock.now()
    _transition(session, case, S.acknowledged, at=now, actor=actor_of(viewer))
    sla.record_first_response(case, now)
    _notify(session, case, "escalation.acknowledged", now)
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

    Raises EscalationNotFound, StaleVersion, InvalidTransition, InvalidOutcome.
    """
    _staff(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
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
    now = clock.now()
    _transition(
        session,
        case,
        S.resolved,
        at=now,
        actor=actor_of(viewer),
        data={"outcome": outcome.value, "amount_delta": str(delta)},
    )
    sla.record_first_response(case, now)
    sla.stop_clock(case)
    case.outcome, case.amount_delta, case.outcome_note = outcome, delta, note
    case.outcome_tier, case.resolved_at = case.tier, now
    _notify(session, case, "escalation.resolved", now, outcome=outcome.value)
    return case


def _add_message(
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
    Raises EscalationNotFound, InvalidTransition.
    """
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    if case.status not in (*ACTIVE, S.held, S.resolved):
        raise InvalidTransition(
            f"the case is {case.status.value}", {"current_status": case.status.value}
        )
    now = clock.now()
    actor = actor_of(viewer)
    message = _add_message(session, case, viewer, MessageKind.message, body, now)
    hours = sla.hours_of(case.visit.center)
    if viewer.role == Role.customer:
        if case.status == S.awaiting_customer:
            _transition(session, case, S.acknowledged, at=now, actor=actor, kind="customer_replied")
            sla.resume_clock(case, hours, now)
        else:
            _touch(case, now)
        _notify(session, case, "escalation.message", now, author="customer")
        return message
    if case.status in ACTIVE:
        sla.record_first_response(case, now)
    if await_customer and case.status != S.awaiting_customer:
        _transition(session, case, S.awaiting_customer, at=now, actor=actor)
        sla.pause_clock(case, now)
    else:
        _touch(case, now)
    _notify(session, case, "escalation.message", now, author="staff")
    return message


def add_note(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int, body: str
) -> EscalationMessage:
    """A staff-only note; the customer never sees it. Raises EscalationNotFound, StaffOnly."""
    _staff(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    now = clock.now()
    note = _add_message(session, case, viewer, MessageKind.note, body, now)
    _touch(case, now)
    record_event(
        session,
        at=now,
        actor=actor_of(viewer),
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
    _staff(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    now = clock.now()
    call = _add_message(
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
    _touch(case, now)
    _log(
        session,
        case,
        "call_logged",
        at=now,
        actor=actor_of(viewer),
        data={"duration_seconds": duration_seconds},
    )
    return call


# ---- customer actions --------------------------------------------------------------


def _customer(viewer: User) -> None:
    if viewer.role != Role.customer:
        raise CustomersOnly("only the customer can do this")


def withdraw_escalation(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int
) -> Escalation:
    """The customer withdraws a case before it is resolved. Raises InvalidTransition."""
    _customer(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    now = clock.now()
    _transition(session, case, S.withdrawn, at=now, actor=actor_of(viewer))
    sla.stop_clock(case)
    case.closed_at = now
    _notify(session, case, "escalation.withdrawn", now)
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
    ``appeal_refusal(decision)``). Raises EscalationNotFound, CustomersOnly.
    """
    _customer(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    visit, center = case.visit, case.visit.center
    policy = policy or policy_for_center(session, center)
    now = clock.now()
    facts = Facts(
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
    decision = evaluate(policy, facts, now)

    def record(guardrail: dict[str, Any]) -> None:
        _record_request(
            session,
            at=now,
            kind="appeal",
            visit=visit,
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
        guardrail = _guardrail_json(
            decision, explain(decision.reason, viewer.language, days=policy.appeal_window_days)
        )
        record(guardrail)
        return Appealed(case, decision, guardrail)
    previous = {
        "outcome": case.outcome.value if case.outcome else None,
        "amount_delta": str(case.amount_delta),
        "tier": case.tier,
    }
    _transition(
        session, case, S.open, at=now, actor=actor_of(viewer), kind="appealed", data=previous
    )
    case.appealed_at, case.appeal_reason = now, reason
    case.outcome = case.amount_delta = case.outcome_note = case.resolved_at = None
    old_assignee = case.assignee_id
    case.tier = 2
    _assign(session, case, center, visit)
    sla.start_clock(case, sla.hours_of(center), policy, now)
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    guardrail = _guardrail_json(
        decision,
        explain(
            "appeal_routed",
            viewer.language,
            due=case.first_response_due,
            time_zone=center.time_zone,
            name=assignee.name if assignee else "",
        ),
    )
    record(guardrail)
    _add_message(session, case, viewer, MessageKind.message, reason, now)
    _log(
        session,
        case,
        "reassigned",
        at=now,
        actor=actor_of(viewer),
        data={"from_assignee_id": old_assignee, "to_assignee_id": case.assignee_id, "tier": 2},
    )
    _notify(session, case, "escalation.appealed", now, extra=[old_assignee])
    return Appealed(case, decision, guardrail)


def appeal_refusal(appealed: Appealed) -> Exception:
    """The error that answers a refused appeal, carrying the decision."""
    reason = appealed.decision.reason
    details = appealed.guardrail
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
    _customer(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    if case.rating_score is not None:
        raise AlreadyRated("you have rated this case", {"score": case.rating_score})
    if case.status not in (S.resolved, S.closed) or case.outcome is None:
        raise InvalidTransition(
            "rate the case once it has an outcome", {"current_status": case.status.value}
        )
    now = clock.now()
    case.rating_score, case.rating_comment, case.rated_at = score, comment, now
    _touch(case, now)
    _log(session, case, "rated", at=now, actor=actor_of(viewer), data={"score": score})
    _notify(session, case, "escalation.rated", now, score=score)
    return case


# ---- moderation --------------------------------------------------------------------


def _ops(viewer: User) -> None:
    if viewer.role != Role.ops_admin:
        raise OpsOnly("ops_admin only")


def _held(session: Session, escalation_id: int) -> Escalation:
    case = session.scalars(
        sa.select(Escalation)
        .where(Escalation.id == escalation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if case is None:
        raise EscalationNotFound("escalation not found")
    return case


def list_held(session: Session, *, viewer: User, limit: int, offset: int) -> list[Escalation]:
    """Cases the guardrails held for a human check, oldest first. Raises OpsOnly."""
    _ops(viewer)
    return list(
        session.scalars(
            sa.select(Escalation)
            .where(Escalation.status == S.held)
            .order_by(Escalation.created_at, Escalation.id)
            .offset(offset)
            .limit(limit)
        )
    )


def approve_held(session: Session, clock: Clock, *, viewer: User, escalation_id: int) -> Escalation:
    """Release a held case: it opens at the tier its decision named, with its SLA.

    Raises OpsOnly, EscalationNotFound, InvalidTransition.
    """
    _ops(viewer)
    case = _held(session, escalation_id)
    now = clock.now()
    _transition(session, case, S.open, at=now, actor=actor_of(viewer), kind="approved")
    center = session.get_one(Center, case.center_id)
    _place(session, case, center, case.visit, None, policy_for_center(session, center), now)
    _notify(session, case, "escalation.approved", now)
    return case


def reject_held(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int, reason: str
) -> Escalation:
    """Turn a held case down with a reason the customer reads.

    Raises OpsOnly, EscalationNotFound, InvalidTransition.
    """
    _ops(viewer)
    case = _held(session, escalation_id)
    now = clock.now()
    _transition(
        session,
        case,
        S.rejected,
        at=now,
        actor=actor_of(viewer),
        kind="rejected",
        data={"reason": reason},
    )
    case.rejection_reason = reason
    case.closed_at = now
    sla.stop_clock(case)
    _notify(session, case, "escalation.rejected", now, reason=reason)
    return case


# ---- inbox -------------------------------------------------------------------------


def list_inbox(
    session: Session, clock: Clock, *, viewer: User, limit: int, offset: int
) -> list[Escalation]:
    """The caller's open cases: breached first, then by the nearest due time."""
    _staff(viewer)
    tier = {Role.service_advisor: 0, Role.local_manager: 1, Role.regional_manager: 2}.get(
        viewer.role
    )
    if tier is None:
        raise StaffOnly("the inbox is for advisors and managers")
    now = clock.now()
    due = sa.func.coalesce(Escalation.sla_next_due, Escalation.resolution_due)
    breached = sa.case((Escalation.sla_next_due <= now, 0), else_=1)
    query = (
        sa.select(Escalation)
        .where(_visible(viewer), Escalation.tier == tier, Escalation.status.in_(ACTIVE))
        .order_by(breached, due.is_(None), due, Escalation.id)
        .offset(offset)
        .limit(limit)
        .options(selectinload(Escalation.visit), selectinload(Escalation.assignee))
    )
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class VisitContext:
    visit: Visit
    earlier_visits: list[Visit]


def visit_context(session: Session, case: Escalation) -> VisitContext:
    """The visit behind a case, with the vehicle's earlier visits (newest first)."""
    visit = session.scalars(visit_with_revisions().where(Visit.id == case.visit_id)).one()
    earlier = list(
        session.scalars(
            sa.select(Visit)
            .where(
                Visit.vehicle_id == visit.vehicle_id,
                Visit.id != visit.id,
                Visit.created_at <= visit.created_at,
            )
            .order_by(Visit.id.desc())
            .limit(10)
            .options(selectinload(Visit.center))
        )
    )
    return VisitContext(visit, earlier)


# ---- the SLA sweep -----------------------------------------------------------------


def escalate_breached(session: Session, *, now: datetime, batch: int = 200) -> int:
    """Move up to ``batch`` breached tier-1 cases to tier 2; returns how many moved.

    Reads only breached rows through the (tier, sla_next_due) index and claims
    them with FOR UPDATE SKIP LOCKED, so concurrent sweepers never move one case
    twice and leave none behind. The caller commits after each batch.
    """
    cases = list(
        session.scalars(
            sa.select(Escalation)
            .where(
                Escalation.tier == 1, Escalation.sla_next_due <= now, Escalation.status.in_(ACTIVE)
            )
            .order_by(Escalation.sla_next_due, Escalation.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    )
    # Every case in a batch moves at the same instant: one assignee and one set of
    # due times per center, so the cost per case is a few inserts.
    per_center: dict[int, tuple[int | None, datetime | None, datetime | None, datetime | None]] = {}
    actor = Actor.system("sla-sweep")
    for case in cases:
        if case.center_id not in per_center:
            center = session.get_one(Center, case.center_id)
            regional = find_regional_manager(session, center)
            probe = Escalation(tier=2)
            sla.start_clock(probe, sla.hours_of(center), policy_for_center(session, center), now)
            per_center[case.center_id] = (
                regional.id if regional else None,
                probe.first_response_due,
                probe.resolution_due,
                probe.sla_next_due,
            )
        assignee_id, first_due, resolution_due, next_due = per_center[case.center_id]
        target = sla.breached_target(case, now) or "first_response"
        old_assignee, previous = case.assignee_id, case.status
        case.tier, case.breached_at, case.status, case.assignee_id = 2, now, S.open, assignee_id
        case.first_response_due, case.resolution_due = first_due, resolution_due
        case.sla_next_due, case.first_response_at, case.sla_paused_at = next_due, None, None
        _touch(case, now)
        _log(
            session,
            case,
            "auto_escalated",
            at=now,
            actor=actor,
            from_status=previous.value,
            to_status=S.open.value,
            data={
                "breached": target,
                "from_tier": 1,
                "to_tier": 2,
                "from_assignee_id": old_assignee,
                "to_assignee_id": case.assignee_id,
            },
        )
        _notify(
            session, case, "escalation.auto_escalated", now, extra=[old_assignee], breached=target
        )
    return len(cases)


def close_settled(session: Session, *, now: datetime, batch: int = 500) -> int:
    """Close resolved cases whose appeal window (the current global policy's) has passed."""
    published = current_policy(session)
    policy = policy_for(published.document, str(published.version), None)
    cutoff = now - timedelta(days=policy.appeal_window_days)
    cases = list(
        session.scalars(
            sa.select(Escalation)
            .where(Escalation.status == S.resolved, Escalation.resolved_at <= cutoff)
            .order_by(Escalation.resolved_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    for case in cases:
        _transition(session, case, S.closed, at=now, actor=Actor.system("sla-sweep"))
        case.closed_at = now
    return len(cases)
