"""Gathering the facts a guardrail decision reads, as they are at the request."""

from __future__ import annotations

import difflib
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.escalations.models import ACTIVE, Category, Escalation, EscalationStatus
from direkte.guardrails.engine import Facts
from direkte.network.models import Center, Role, User
from direkte.network.service import find_managers
from direkte.visits.models import Diagnosis, Estimate, Vehicle, Visit, WarrantyDecision

OPEN_LIKE = (EscalationStatus.held, *ACTIVE)
_SUBJECTS: dict[Category, type[Diagnosis | Estimate | WarrantyDecision]] = {
    Category.diagnosis: Diagnosis,
    Category.estimate: Estimate,
    Category.warranty: WarrantyDecision,
}


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in folded if c.isalnum() or c.isspace()).split())


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0 to 1, ignoring case, accents and punctuation."""
    return difflib.SequenceMatcher(None, _plain(a), _plain(b)).ratio()


def _open_cases(session: Session, visit: Visit, customer: User) -> list[Escalation]:
    return list(
        session.scalars(
            sa.select(Escalation)
            .where(
                Escalation.visit_id == visit.id,
                Escalation.customer_id == customer.id,
                Escalation.status.in_(OPEN_LIKE),
            )
            .order_by(Escalation.id)
        )
    )


def _history(session: Session, customer: User, now: datetime) -> dict[str, Any]:
    count = session.scalar(
        sa.select(sa.func.count(Escalation.id)).where(
            Escalation.customer_id == customer.id,
            Escalation.created_at > now - timedelta(days=365),
        )
    )
    recent = session.execute(
        sa.select(Escalation.outcome, Escalation.resolved_at)
        .where(Escalation.customer_id == customer.id, Escalation.resolved_at.is_not(None))
        .order_by(Escalation.resolved_at.desc())
        .limit(5)
    ).all()
    return {
        "cases_last_365_days": int(count or 0),
        "recent_outcomes": tuple(o.value for o, _ in recent if o is not None),
        "last_outcome_at": recent[0][1] if recent else None,
    }


def _within_coverage(vehicle: Vehicle, on: date) -> bool:
    if vehicle.delivery_date is None:
        return False
    for coverage in vehicle.coverages:
        age_years = (on - vehicle.delivery_date).days / 365.25
        if age_years <= coverage.years and vehicle.odometer_km <= coverage.distance_km:
            return True
    return False


def _subject_facts(session: Session, visit: Visit, subject: Any, now: datetime) -> dict[str, Any]:
    if subject is None:
        return {}
    if isinstance(subject, Estimate):
        estimates = list(
            session.scalars(
                sa.select(Estimate).where(Estimate.visit_id == visit.id).order_by(Estimate.seq)
            )
        )
        base = next((e for e in estimates if e.approved_at is not None), estimates[0])
        safety = session.scalar(
            sa.select(sa.func.count(Diagnosis.id)).where(
                Diagnosis.visit_id == visit.id, Diagnosis.safety_related
            )
        )
        return {
            "currency": subject.currency,
            "estimate_total": str(subject.total),
            "first_approved_total": str(base.total),
            "safety_related": bool(safety),
        }
    if isinstance(subject, WarrantyDecision):
        return {
            "currency": subject.currency,
            "warranty_claimed": str(subject.claimed),
            "warranty_covered": str(subject.covered),
            "warranty_decision": subject.decision.value,
            "safety_related": subject.safety_related,
            "within_coverage": _within_coverage(visit.vehicle, now.date()),
        }
    previous_revision = session.scalar(
        sa.select(Diagnosis)
        .where(Diagnosis.visit_id == visit.id, Diagnosis.seq < subject.seq)
        .order_by(Diagnosis.seq.desc())
        .limit(1)
    )
    contradicts = bool(
        previous_revision is not None
        and subject.codes
        and previous_revision.codes
        and not set(subject.codes) & set(previous_revision.codes)
    )
    started = visit.checked_in_at or now
    previous_visit = session.scalar(
        sa.select(sa.func.max(sa.func.coalesce(Visit.closed_at, Visit.checked_in_at))).where(
            Visit.vehicle_id == visit.vehicle_id,
            Visit.id != visit.id,
            Visit.checked_in_at < started,
        )
    )
    return {
        "safety_related": subject.safety_related,
        "drivable": visit.drivable,
        "days_since_previous_visit": (
            max((started - previous_visit).days, 0) if previous_visit is not None else None
        ),
        "contradicts_previous": contradicts,
    }


def _capacity(session: Session, center: Center) -> dict[str, Any]:
    local, regional = find_managers(session, center_id=center.id, region_id=center.region_id)
    deputy = None
    if local is not None:
        deputy = local.deputy if local.deputy is not None and local.deputy.active else None
        if deputy is None:
            deputy = session.scalars(
                sa.select(User)
                .where(
                    User.center_id == center.id,
                    User.role == Role.local_manager,
                    User.active,
                    User.id != local.id,
                )
                .order_by(User.on_duty.desc(), User.id)
                .limit(1)
            ).first()
    ids = [p.id for p in (local, deputy, regional) if p is not None]
    load: dict[int, int] = dict.fromkeys(ids, 0)
    if ids:
        for assignee, count in session.execute(
            sa.select(Escalation.assignee_id, sa.func.count(Escalation.id))
            .where(Escalation.assignee_id.in_(ids), Escalation.status.in_(ACTIVE))
            .group_by(Escalation.assignee_id)
        ):
            if assignee is not None:
                load[assignee] = int(count)
    return {
        "local_manager_id": local.id if local else None,
        "local_open": load.get(local.id, 0) if local else 0,
        "deputy_id": deputy.id if deputy else None,
        "deputy_open": load.get(deputy.id, 0) if deputy else 0,
        "regional_manager_id": regional.id if regional else None,
        "regional_open": load.get(regional.id, 0) if regional else 0,
    }


def gather_facts(
    session: Session,
    *,
    visit: Visit,
    customer: User,
    category: Category,
    subject_id: int,
    reason: str,
    content: dict[str, Any],
    now: datetime,
) -> Facts:
    """The facts for a new request: subject, history, similar open cases, load, content."""
    model = _SUBJECTS[category]
    subject = session.scalar(
        sa.select(model).where(model.id == subject_id, model.visit_id == visit.id)
    )
    open_cases = _open_cases(session, visit, customer)
    same = next((c for c in open_cases if c.category == category), None)
    scored = sorted(((similarity(reason, c.reason), c) for c in open_cases), key=lambda p: -p[0])
    best = scored[0] if scored else None
    return Facts(
        kind="create",
        category=category.value,
        program=visit.center.program.value,
        visit_status=visit.status.value,
        visit_checked_in_at=visit.checked_in_at,
        visit_closed_at=visit.closed_at,
        subject_id=subject_id,
        subject_belongs=subject is not None,
        open_case_id=same.id if same else None,
        open_case_tier=same.tier if same else None,
        similar_case_id=best[1].id if best else None,
        similar_case_tier=best[1].tier if best else None,
        similarity=best[0] if best else 0.0,
        **_history(session, customer, now),
        **_subject_facts(session, visit, subject, now),
        **content,
        **_capacity(session, visit.center),
    )
