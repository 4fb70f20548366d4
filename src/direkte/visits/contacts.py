"""Who a customer may escalate to on a visit (DESIGN §4), and the record of each reveal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from direkte.audit.service import Actor, audit_row, record_events
from direkte.network.hours import NoOpeningHours, OpeningHours, open_intervals, opening_hours
from direkte.network.models import Program, Role, User
from direkte.network.service import find_managers


@dataclass(frozen=True, slots=True)
class Contact:
    staff: User
    role: Role
    available_now: bool
    channels: tuple[str, ...]
    business_hours: dict[str, list[str]]
    time_zone: str
    # When the center next opens, while it is closed (None while open, or with no hours).
    available_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """The facts about a visit's center that its contacts depend on."""

    center_id: int
    region_id: int
    program: str
    time_zone: str
    country: str
    business_hours: dict[str, Any]
    closed_dates: list[str]


def contacts_shown(
    program: str,
    status: str,
    checked_in_at: datetime | None,
    closed_at: datetime | None,
    now: datetime,
    *,
    window: timedelta,
) -> bool:
    """Whether a visit carries manager contacts now: program running, checked in, and
    not closed longer ago than ``window`` (the policy's escalation window)."""
    if program == Program.off or status in ("scheduled", "cancelled") or checked_in_at is None:
        return False
    if checked_in_at > now:
        return False
    return closed_at is None or now <= closed_at + window


def _next_opening(hours: OpeningHours, now: datetime) -> datetime | None:
    try:
        opens, _closes = next(open_intervals(hours, now))
    except (NoOpeningHours, StopIteration):
        return None
    return opens


def find_contacts(
    session: Session, place: Place, *, now: datetime, cache: dict[int, list[Contact]] | None = None
) -> list[Contact]:
    """The on-duty local manager (else a deputy) and the regional manager of a place.

    ``cache`` (per center) saves the look-ups when listing many visits at one instant.
    """
    if cache is not None and place.center_id in cache:
        return cache[place.center_id]
    hours = opening_hours(place.time_zone, place.country, place.business_hours, place.closed_dates)
    open_now = hours.is_open_at(now)
    next_open = None if open_now else _next_opening(hours, now)
    local, regional = find_managers(session, center_id=place.center_id, region_id=place.region_id)
    found = []
    for role, staff in ((Role.local_manager, local), (Role.regional_manager, regional)):
        if staff is None:
            continue
        channels = ("message", "phone") if staff.phone else ("message",)
        found.append(
            Contact(
                staff,
                role,
                open_now,
                channels,
                place.business_hours,
                place.time_zone,
                next_open,
            )
        )
    if cache is not None:
        cache[place.center_id] = found
    return found


def record_reveals(
    session: Session, *, at: datetime, viewer: User, visit_id: int, contacts: list[Contact]
) -> None:
    """Write one audit event per contact shown: who saw which contact, on which visit."""
    actor = Actor.user(viewer)
    record_events(
        session,
        [
            audit_row(
                at=at,
                actor=actor,
                action="contact.revealed",
                subject_kind="user",
                subject_id=contact.staff.id,
                visit_id=visit_id,
                data={"role": contact.role.value, "staff_email": contact.staff.email},
            )
            for contact in contacts
        ],
    )
