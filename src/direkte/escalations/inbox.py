"""The staff inbox: the caller's open cases, most urgent first, with their visit context."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, selectinload

from direkte import access
from direkte.clock import Clock
from direkte.escalations.kernel import get_escalation, visible_cases
from direkte.escalations.models import (
    ACTIVE,
    Escalation,
    EscalationStatus,
)
from direkte.network.models import Center, Role, User
from direkte.visits.models import Visit
from direkte.visits.read import VisitDoc, read_visits


@dataclass(frozen=True, slots=True)
class EarlierVisit:
    """One of the same customer's earlier visits with the same vehicle."""

    id: int
    center_code: str
    appointment_date: date | None
    concern: str
    status: str


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A case with the visit behind it and the customer's earlier visits (newest first)."""

    case: Escalation
    visit: VisitDoc
    earlier_visits: list[EarlierVisit]


EARLIER_VISITS_SHOWN = 10


def list_inbox(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    limit: int,
    offset: int,
    status: EscalationStatus | None = None,
    center: str | None = None,
) -> list[InboxEntry]:
    """The caller's open cases at their tier: breached first, then by the nearest due time;
    only those in ``status`` (one of the open ones) and at the center coded ``center``
    when given.

    A fixed number of statements whatever the page's size. Raises StaffOnly.
    """
    tier = access.inbox_tier(viewer)
    now = clock.now()
    due = sa.func.coalesce(Escalation.sla_next_due, Escalation.resolution_due)
    breached = sa.case((Escalation.sla_next_due <= now, 0), else_=1)
    statuses = [status] if status is not None else list(ACTIVE)
    query = (
        sa.select(Escalation)
        .where(visible_cases(viewer), Escalation.tier == tier, Escalation.status.in_(statuses))
        .order_by(breached, due.is_(None), due, Escalation.id)
        .offset(offset)
        .limit(limit)
        .options(selectinload(Escalation.assignee), selectinload(Escalation.customer))
    )
    if center is not None:
        query = query.where(
            Escalation.center_id
            == sa.select(Center.id).where(Center.code == center).scalar_subquery()
        )
    cases = list(session.scalars(query))
    return _entries(session, viewer, cases)


def get_case_entry(session: Session, *, viewer: User, escalation_id: int) -> InboxEntry:
    """One case the viewer may see with its visit and the earlier visits, as an inbox
    entry (the staff's case page).

    Raises StaffOnly, EscalationNotFound.
    """
    access.require_staff(viewer)
    case = get_escalation(session, viewer=viewer, escalation_id=escalation_id)
    return _entries(session, viewer, [case])[0]


def _entries(session: Session, viewer: User, cases: list[Escalation]) -> list[InboxEntry]:
    visit_ids = sorted({case.visit_id for case in cases})
    if not visit_ids:
        return []
    visits = {doc.id: doc for doc in read_visits(session, Visit.id.in_(visit_ids))}
    earlier = _earlier_visits(session, viewer, visit_ids)
    return [
        InboxEntry(case, visits[case.visit_id], earlier.get(case.visit_id, [])) for case in cases
    ]


@dataclass(frozen=True, slots=True)
class ManagerLoad:
    """A local manager of the regional manager's region and the cases on their desk."""

    name: str
    center_code: str
    on_duty: bool
    open_cases: int
    breached: int


def list_manager_load(session: Session, clock: Clock, *, viewer: User) -> list[ManagerLoad]:
    """The local managers of the viewer's region, with their open tier-1 cases and how
    many of those are past a due time; busiest first.

    Raises ManagersOnly (a regional manager's view: others get an empty list).
    """
    access.require_manager(viewer)
    if viewer.role != Role.regional_manager:
        return []
    statement = _load_statement(viewer.region_id)
    rows = session.execute(statement, {"now": clock.now()})
    return [ManagerLoad(r[0], r[1], bool(r[2]), int(r[3]), int(r[4])) for r in rows]


@functools.lru_cache(maxsize=256)
def _load_statement(region_id: int | None) -> sa.Select[str, str, bool, int, int]:
    """The load statement for a region's regional managers, built once (building it
    cost more than running it); the time is its ``now`` parameter."""
    viewer = User(role=Role.regional_manager, center_id=None, region_id=region_id)
    open_cases = sa.func.count(Escalation.id)
    breached = sa.func.count(Escalation.id).filter(
        Escalation.sla_next_due <= sa.bindparam("now", type_=Escalation.sla_next_due.type)
    )
    return (
        sa.select(User.name, Center.code, User.on_duty, open_cases, breached)
        .join(Center, Center.id == User.center_id)
        .outerjoin(
            Escalation,
            sa.and_(
                Escalation.assignee_id == User.id,
                Escalation.tier == 1,
                Escalation.status.in_(ACTIVE),
            ),
        )
        .where(
            User.role == Role.local_manager,
            access.owned_filter(viewer, customer_id=User.id, center_id=User.center_id),
        )
        .group_by(User.id, User.name, Center.code, User.on_duty)
        .order_by(open_cases.desc(), Center.code, User.name)
    )


def _earlier_visits(
    session: Session, viewer: User, visit_ids: list[int]
) -> dict[int, list[EarlierVisit]]:
    """Per visit, the same customer's earlier visits with the same vehicle that the viewer
    may see, newest first, at most ``EARLIER_VISITS_SHOWN`` each (one statement)."""
    statement = _earlier_statement(viewer.role, viewer.id, viewer.center_id, viewer.region_id)
    found: dict[int, list[EarlierVisit]] = {}
    for row in session.execute(statement, {"visit_ids": visit_ids}):
        found.setdefault(row.visit_id, []).append(
            EarlierVisit(
                row.id, row.center_code, row.appointment_date, row.concern, str(row.status)
            )
        )
    return found


@functools.lru_cache(maxsize=1024)
def _earlier_statement(
    role: Role, user_id: int, center_id: int | None, region_id: int | None
) -> sa.Select[Any]:
    """The earlier-visits statement for one viewer, built once per viewer (building it
    cost more than running it)."""
    viewer = User(role=role, id=user_id, center_id=center_id, region_id=region_id)
    current, earlier = aliased(Visit), aliased(Visit)
    rank = (
        sa.func.row_number().over(partition_by=current.id, order_by=earlier.id.desc()).label("rank")
    )
    ranked = (
        sa.select(
            current.id.label("visit_id"),
            earlier.id,
            Center.code.label("center_code"),
            earlier.appointment_date,
            earlier.concern,
            earlier.status,
            rank,
        )
        .join(
            earlier,
            sa.and_(
                earlier.vehicle_id == current.vehicle_id,
                earlier.customer_id == current.customer_id,
                earlier.id != current.id,
                earlier.created_at <= current.created_at,
            ),
        )
        .join(Center, Center.id == earlier.center_id)
        .where(
            current.id.in_(sa.bindparam("visit_ids", expanding=True)),
            access.owned_filter(
                viewer, customer_id=earlier.customer_id, center_id=earlier.center_id
            ),
        )
        .subquery()
    )
    return (
        sa.select(ranked)
        .where(ranked.c.rank <= EARLIER_VISITS_SHOWN)
        .order_by(ranked.c.visit_id, ranked.c.id.desc())
    )
