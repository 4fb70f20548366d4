"""Opening a case: decide a customer's request with the guardrails and act on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.service import Actor
from direkte.clock import Clock
from direkte.escalations.appends import NewCase, insert_new_case
from direkte.escalations.facts import Manager, Staff, gather_facts, read_request
from direkte.escalations.kernel import (
    INSERT_REQUEST,
    S,
    add_message,
    guardrail_json,
    log_change,
    log_rows,
    notify_row,
    place,
    request_row,
    staff_user,
    touch,
)
from direkte.escalations.models import (
    Category,
    Escalation,
    EscalationMessage,
    MessageKind,
)
from direkte.guardrails.content_facts import content_facts
from direkte.guardrails.engine import Decision, Facts, evaluate
from direkte.guardrails.explanations import explain
from direkte.guardrails.policy import Policy
from direkte.marks import mark_dirty
from direkte.network.models import User
from direkte.network.service import find_ops_ids
from direkte.policy.service import (
    merged_policy,
)
from direkte.visits.models import Visit
from direkte.visits.service import VisitNotFound

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


@dataclass(frozen=True, slots=True)
class Opened:
    """What became of a request: a new case, a fold into the open one, or a rejection."""

    escalation: Escalation | None
    decision: Decision
    guardrail: dict[str, Any]
    folded: bool
    # The case's assignee (the answer reads its name and role): a new case is not in
    # the session, and its ``assignee`` relationship is left unset.
    assignee: Manager | User | None = None


@dataclass(frozen=True, slots=True)
class _Request:
    """A customer's request as decided: what the three outcomes act on."""

    at: datetime
    customer: User
    visit: Visit
    category: Category
    subject_id: int
    reason: str
    policy: Policy
    staff: Staff
    facts: Facts
    decision: Decision

    def record(self, guardrail: dict[str, Any], escalation_id: int | None) -> dict[str, Any]:
        """The request record with the decision's guardrail answer."""
        return request_row(
            at=self.at,
            kind="create",
            visit=self.visit,
            customer=self.customer,
            category=self.category.value,
            subject_id=self.subject_id,
            reason=self.reason,
            facts=self.facts,
            decision=self.decision,
            guardrail=guardrail,
            escalation_id=escalation_id,
        )


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
    request = _decide(
        session,
        clock,
        viewer=viewer,
        visit_id=visit_id,
        category=category,
        subject_id=subject_id,
        reason=reason,
        policy=policy,
        lock=True,
    )
    if request.decision.decision == "reject":
        return _reject(session, request)
    if request.decision.folded_into is not None:
        return _fold(session, request, request.decision.folded_into)
    return _open_case(session, request)


def _decide(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    visit_id: int,
    category: Category,
    subject_id: int,
    reason: str,
    policy: Policy | None,
    lock: bool,
) -> _Request:
    """Gather a customer's request's facts and ask the guardrails (the visit locked if
    ``lock``).

    Raises CustomersOnly, VisitNotFound.
    """
    access.require_customer(viewer)
    now = clock.now()
    read = read_request(
        session,
        visit_id=visit_id,
        customer=viewer,
        category=category,
        subject_id=subject_id,
        now=now,
        lock=lock,
    )
    if read is None:
        raise VisitNotFound("visit not found")
    policy = policy or merged_policy(*read.policy)
    facts = gather_facts(
        session,
        read,
        customer=viewer,
        category=category,
        subject_id=subject_id,
        reason=reason,
        content=content_facts(reason),
        now=now,
    )
    decision = evaluate(policy, facts, now)
    return _Request(
        now, viewer, read.visit, category, subject_id, reason, policy, read.staff, facts, decision
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """What the guardrails would decide now, and for a routed request who would take it
    and by when (nothing recorded)."""

    decision: Decision
    guardrail: dict[str, Any]
    assignee: Manager | User | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    folded_into: int | None
    time_zone: str  # the center's, for showing the due times


def preview_escalation(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    visit_id: int,
    category: Category,
    subject_id: int,
    reason: str,
    language: str | None = None,
) -> Preview:
    """Decide a customer's request as ``open_escalation`` would, and record nothing:
    no request record, no case, nobody told (the caller does not commit).

    The explanation is in ``language`` (default: the customer's). Raises CustomersOnly,
    VisitNotFound.
    """
    request = _decide(
        session,
        clock,
        viewer=viewer,
        visit_id=visit_id,
        category=category,
        subject_id=subject_id,
        reason=reason,
        policy=None,
        lock=False,
    )
    decision, policy, visit = request.decision, request.policy, request.visit
    language = language or viewer.language
    zone = visit.center.time_zone
    if decision.decision == "reject":
        explanation = explain(
            decision.reason,
            language,
            days=policy.escalation_window_days,
            limit=policy.frequency.max_per_365_days,
            cooldown=policy.frequency.cooldown_days,
        )
        return Preview(
            decision, guardrail_json(decision, explanation), None, None, None, None, zone
        )
    if decision.folded_into is not None:
        explanation = explain("folded", language)
        folded = decision.folded_into
        return Preview(
            decision, guardrail_json(decision, explanation), None, None, None, folded, zone
        )
    if decision.decision == "moderate":
        explanation = explain("held", language)
        return Preview(
            decision, guardrail_json(decision, explanation), None, None, None, None, zone
        )
    # A case that is never added to the session: placing it reads the managers and
    # counts the due times in the center's business hours, as opening would.
    case = Escalation(tier=decision.tier if decision.tier is not None else 1)
    place(session, case, visit.center, visit, decision.assignee_id, policy, request.at)
    assignee = staff_user(session, case.assignee_id, request.staff)
    explanation = explain(
        f"routed.tier{case.tier}",
        language,
        due=case.first_response_due,
        time_zone=visit.center.time_zone,
        name=assignee.name if assignee else "",
    )
    return Preview(
        decision,
        {**guardrail_json(decision, explanation), "tier": case.tier},
        assignee,
        case.first_response_due,
        case.resolution_due,
        None,
        zone,
    )


def _reject(session: Session, request: _Request) -> Opened:
    """Record a refused request with the reason the customer reads."""
    decision, policy = request.decision, request.policy
    explanation = explain(
        decision.reason,
        request.customer.language,
        days=policy.escalation_window_days,
        limit=policy.frequency.max_per_365_days,
        cooldown=policy.frequency.cooldown_days,
    )
    guardrail = guardrail_json(decision, explanation)
    session.connection().execute(INSERT_REQUEST, request.record(guardrail, None))
    mark_dirty(session, request.visit.center_id, [request.at])
    return Opened(None, decision, guardrail, folded=False)


def _fold(session: Session, request: _Request, case_id: int) -> Opened:
    """Fold a request into the visit's open case of its category: the reason joins the
    thread once, however often it is sent."""
    open_case = session.get_one(Escalation, case_id)
    guardrail = guardrail_json(request.decision, explain("folded", request.customer.language))
    session.connection().execute(INSERT_REQUEST, request.record(guardrail, open_case.id))
    # A held case takes no messages until released; a text said once is not repeated.
    if open_case.status != S.held and not _already_said(
        session, open_case, request.customer, request.reason
    ):
        add_message(
            session, open_case, request.customer, MessageKind.message, request.reason, request.at
        )
    touch(open_case, request.at)
    log_change(
        session,
        open_case,
        "folded",
        at=request.at,
        actor=Actor.user(request.customer),
        data={"subject_id": request.subject_id, "category": request.category.value},
    )
    return Opened(
        open_case, request.decision, open_case.guardrail, folded=True, assignee=open_case.assignee
    )


def _open_case(session: Session, request: _Request) -> Opened:
    """Open a routed case (assigned, SLA started) or a held one (nobody told), with the
    five rows that name it, in one statement where the database allows."""
    decision, visit, now = request.decision, request.visit, request.at
    held = decision.decision == "moderate"
    case = Escalation(
        visit_id=visit.id,
        customer_id=request.customer.id,
        center_id=visit.center.id,
        category=request.category,
        subject_id=request.subject_id,
        reason=request.reason,
        status=S.held if held else S.open,
        held_back=held,
        tier=decision.tier if decision.tier is not None else 1,
        version=1,
        created_at=now,
        updated_at=now,
        currency=visit.currency,
        guardrail={},
    )
    if not held:
        place(session, case, visit.center, visit, decision.assignee_id, request.policy, now)
    assignee = staff_user(session, case.assignee_id, request.staff)
    case.guardrail = guardrail_json(
        decision,
        explain(
            "held" if held else f"routed.tier{case.tier}",
            request.customer.language,
            due=case.first_response_due,
            time_zone=visit.center.time_zone,
            name=assignee.name if assignee else "",
        ),
    )
    event, audit = log_rows(
        case,
        "held" if held else "opened",
        at=now,
        actor=Actor.user(request.customer),
        to_status=case.status.value,
        data={"tier": case.tier, "assignee_id": case.assignee_id},
    )
    case.id = insert_new_case(
        session,
        NewCase(
            case=_case_row(case),
            request=request.record(case.guardrail, None),
            message=_first_message_row(case, request.customer, now),
            event=event,
            audit=audit,
            outbox=(
                notify_row(case, "escalation.held", now, extra=list(find_ops_ids(session)))
                if held
                else notify_row(case, "escalation.opened", now)
            ),
        ),
    )  # with the figures' dirty mark of its center and time
    return Opened(case, decision, case.guardrail, folded=False, assignee=assignee)


def _already_said(session: Session, case: Escalation, customer: User, reason: str) -> bool:
    """Whether the customer already wrote this text in the case's thread, so that a
    request re-sent many times adds one message, not many."""
    said = session.scalar(
        sa.select(EscalationMessage.id)
        .where(
            EscalationMessage.escalation_id == case.id,
            EscalationMessage.author_id == customer.id,
            EscalationMessage.kind == MessageKind.message,
            EscalationMessage.body == reason,
        )
        .limit(1)
    )
    return said is not None
