"""Who a customer may escalate to on a visit (DESIGN §4), and the record of each reveal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from direkte.audit.service import Actor, record_event
from direkte.network.hours import OpeningHours
from direkte.network.models import Program, Role, User
from direkte.network.service import find_local_manager, find_regional_manager
from direkte.visits.models import Visit, VisitStatus

# How long after a visit closes its customer can still escalate (policy later).
ESCALATION_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Contact:
    staff: User
    role: Role
    available_now: bool
    channels: tuple[str, ...]
    business_hours: dict[str, list[str]]
    time_zone: str


def contacts_shown(visit: Visit, now: datetime) -> bool:
    """Whether the visit carries manager contacts now: program running, checked in, in window."""
    if visit.center.program == Program.off:
        return False
    if (
        visit.status in (VisitStatus.scheduled, VisitStatus.cancelled)
        or visit.checked_in_at is None
    ):
        return False
    if visit.checked_in_at > now:
        return False
    return visit.closed_at is None or now <= visit.closed_at + ESCALATION_WINDOW


def find_contacts(
    session: Session,
    visit: Visit,
    now: datetime,
    cache: dict[int, list[Contact]] | None = None,
) -> list[Contact]:
    """The on-duty local manager (else a deputy) and the regional manager, if shown now.

    ``cache`` (per center) saves the look-ups when listing many visits at one instant.
    """
    if not contacts_shown(visit, now):
        return []
    if cache is not None and visit.center_id in cache:
        return cache[visit.center_id]
    center = visit.center
    hours = OpeningHours.of(
        time_zone=center.time_zone,
        country=center.country,
        business_hours=center.business_hours,
        closed_dates=center.closed_dates,
    )
    open_now = hours.is_open_at(now)
    found = []
    for role, staff in (
        (Role.local_manager, find_local_manager(session, center)),
        (Role.regional_manager, find_regional_manager(session, center)),
    ):
        if staff is None:
            continue
        channels = ("message", "phone") if staff.phone else ("message",)
        found.append(
            Contact(staff, role, open_now, channels, center.business_hours, center.time_zone)
        )
    if cache is not None:
        cache[visit.center_id] = found
    return found


def record_reveals(
    session: Session, *, at: datetime, viewer: User, visit: Visit, contacts: list[Contact]
) -> None:
    """Write one audit event per contact shown: who saw which contact, on which visit."""
    actor = Actor("user", viewer.id, viewer.email)
    for contact in contacts:
        record_event(
            session,
            at=at,
            actor=actor,
            action="contact.revealed",
            subject_kind="user",
            subject_id=contact.staff.id,
            visit_id=visit.id,
            data={"role": contact.role.value, "staff_email": contact.staff.email},
        )
