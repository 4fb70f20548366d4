"""The visit with its escalations and manager contacts: the read above both domains.

Contacts show while the customer may still escalate: the policy's escalation
window decides both (DESIGN §4, §5), so nobody sees a manager's phone on a visit
whose escalations would be refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from direkte.clock import Clock
from direkte.escalations.models import Escalation
from direkte.escalations.service import visible_cases
from direkte.kit.pagination import ListKind, decode_cursor, encode_cursor
from direkte.network.models import User
from direkte.policy.service import policy_by_region
from direkte.visits.contacts import Contact, Place, contacts_shown, find_contacts, record_reveals
from direkte.visits.models import Visit
from direkte.visits.read import VisitDoc, read_visit, read_visits
from direkte.visits.service import VisitNotFound, visible_to


@dataclass(frozen=True, slots=True)
class VisitView:
    """A visit as read, with the contacts shown and the cases the viewer may see."""

    doc: VisitDoc
    contacts: list[Contact]
    escalations: list[Escalation]


def _escalations_of(
    session: Session, viewer: User, visit_ids: list[int]
) -> dict[int, list[Escalation]]:
    found: dict[int, list[Escalation]] = {}
    if visit_ids:
        query = (
            sa.select(Escalation)
            .where(Escalation.visit_id.in_(visit_ids), visible_cases(viewer))
            .order_by(Escalation.id)
            .options(selectinload(Escalation.assignee))
        )
        for case in session.scalars(query):
            found.setdefault(case.visit_id, []).append(case)
    return found


def _views(
    session: Session, docs: list[VisitDoc], *, viewer: User, now: datetime
) -> list[VisitView]:
    """Attach contacts (recording each reveal) and escalations to read visits."""
    if not docs:
        return []
    cache: dict[int, list[Contact]] = {}
    cases = _escalations_of(session, viewer, [d.id for d in docs])
    policy_for_region = policy_by_region(session)
    views = []
    for doc in docs:
        window = timedelta(days=policy_for_region(doc.region_code).escalation_window_days)
        contacts: list[Contact] = []
        if contacts_shown(
            doc.program, doc.status, doc.checked_in_at, doc.closed_at, now, window=window
        ):
            place = Place(
                doc.center_id,
                doc.region_id,
                doc.program,
                doc.time_zone,
                doc.country,
                doc.business_hours,
                doc.closed_dates,
            )
            contacts = find_contacts(session, place, now=now, cache=cache)
            record_reveals(session, at=now, viewer=viewer, visit_id=doc.id, contacts=contacts)
        views.append(VisitView(doc, contacts, cases.get(doc.id, [])))
    return views


def view_visit(session: Session, clock: Clock, *, viewer: User, visit_id: int) -> VisitView:
    """Read a visit with its cases and manager contacts, recording each contact revealed.

    Raises VisitNotFound (also for visits the viewer may not see).
    """
    doc = read_visit(session, visit_id, viewer=viewer)
    if doc is None:
        raise VisitNotFound("visit not found")
    return _views(session, [doc], viewer=viewer, now=clock.now())[0]


def view_visits(
    session: Session, clock: Clock, *, viewer: User, limit: int, cursor: str | None
) -> tuple[list[VisitView], str | None]:
    """A page of the viewer's visits, newest first, with cases and contacts (each reveal
    recorded). Raises InvalidCursor."""
    before = decode_cursor(cursor, ListKind.visits)
    where = visible_to(viewer) if before is None else sa.and_(visible_to(viewer), Visit.id < before)
    docs = read_visits(session, where, order_by=Visit.id.desc(), limit=limit + 1)
    more = len(docs) > limit
    docs = docs[:limit]
    next_cursor = encode_cursor(ListKind.visits, docs[-1].id) if more and docs else None
    return _views(session, docs, viewer=viewer, now=clock.now()), next_cursor
