"""Ops' check of the requests the guardrails held: list, release, reject."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.service import Actor
from direkte.clock import Clock
from direkte.escalations import sla
from direkte.escalations.errors import InvalidTransition
from direkte.escalations.kernel import (
    S,
    get_escalation,
    notify,
    place,
    transition,
)
from direkte.escalations.models import Escalation
from direkte.network.models import Center, User
from direkte.policy.service import policy_for_center


def list_held(session: Session, *, viewer: User, limit: int, offset: int) -> list[Escalation]:
    """Cases the guardrails held for a human check, oldest first. Raises OpsOnly."""
    access.require_ops(viewer)
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
    access.require_ops(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    if case.status != S.held:
        raise InvalidTransition(
            f"only a held case can be released; this one is {case.status.value}",
            {"current_status": case.status.value},
        )
    now = clock.now()
    transition(session, case, S.open, at=now, actor=Actor.user(viewer), kind="approved")
    case.held_back = False
    center = session.get_one(Center, case.center_id)
    place(session, case, center, case.visit, None, policy_for_center(session, center), now)
    notify(session, case, "escalation.approved", now)
    return case


def reject_held(
    session: Session, clock: Clock, *, viewer: User, escalation_id: int, reason: str
) -> Escalation:
    """Turn a held case down with a reason the customer reads.

    Raises OpsOnly, EscalationNotFound, InvalidTransition.
    """
    access.require_ops(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id, lock=True)
    now = clock.now()
    transition(
        session,
        case,
        S.rejected,
        at=now,
        actor=Actor.user(viewer),
        kind="rejected",
        data={"reason": reason},
    )
    case.rejection_reason = reason
    case.closed_at = now
    sla.stop_clock(case)
    notify(session, case, "escalation.rejected", now, reason=reason)
    return case
