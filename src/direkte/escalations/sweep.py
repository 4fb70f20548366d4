"""Background work on cases: the SLA breach sweep and the settling of resolved cases."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.audit.service import Actor
from direkte.escalations import sla
from direkte.escalations.kernel import (
    S,
    log_change,
    notify,
    touch,
    transition,
)
from direkte.escalations.models import (
    ACTIVE,
    Escalation,
)
from direkte.guardrails.policy import policy_for
from direkte.network.models import Center
from direkte.network.service import find_regional_manager
from direkte.policy.service import (
    current_policy,
    policy_for_center,
)

_Tier2 = tuple[int | None, datetime | None, datetime | None, datetime | None]


def _tier_2_at(session: Session, center_id: int, now: datetime) -> _Tier2:
    """The center's regional manager and a tier-2 case's due times starting ``now``."""
    center = session.get_one(Center, center_id)
    regional = find_regional_manager(session, center)
    probe = Escalation(tier=2)
    sla.start_clock(probe, sla.hours_of(center), policy_for_center(session, center), now)
    return (
        regional.id if regional else None,
        probe.first_response_due,
        probe.resolution_due,
        probe.sla_next_due,
    )


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
    per_center: dict[int, _Tier2] = {}
    actor = Actor.system("sla-sweep")
    for case in cases:
        if case.center_id not in per_center:
            per_center[case.center_id] = _tier_2_at(session, case.center_id, now)
        assignee_id, first_due, resolution_due, next_due = per_center[case.center_id]
        target = sla.breached_target(case, now) or "first_response"
        old_assignee, previous = case.assignee_id, case.status
        case.tier, case.breached_at, case.status, case.assignee_id = 2, now, S.open, assignee_id
        case.first_response_due, case.resolution_due = first_due, resolution_due
        case.sla_next_due, case.first_response_at, case.sla_paused_at = next_due, None, None
        touch(case, now)
        log_change(
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
        notify(
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
        transition(session, case, S.closed, at=now, actor=Actor.system("sla-sweep"))
        case.closed_at = now
    return len(cases)
