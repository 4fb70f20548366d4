"""The in-app notifications a user reads (their list, marking one read), and a
manager's quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.errors import InvalidField
from direkte.kit.pagination import ListKind, decode_cursor, encode_cursor
from direkte.network.models import User
from direkte.notifications.errors import NotificationNotFound
from direkte.notifications.messages import render
from direkte.notifications.models import Notification


@dataclass(frozen=True)
class NotificationView:
    """One notification as its recipient reads it, in their language."""

    id: int
    type: str
    escalation_id: int | None
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


def view_of(note: Notification, language: str) -> NotificationView:
    message = render(note.topic, note.payload, language)
    case_id = note.payload.get("escalation_id")
    return NotificationView(
        id=note.id,
        type=note.topic,
        escalation_id=int(case_id) if case_id is not None else None,
        title=message.title,
        body=message.body,
        link=message.link,
        created_at=note.created_at,
        read_at=note.read_at,
    )


def list_notifications(
    session: Session,
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    language: str | None = None,
) -> tuple[list[NotificationView], str | None]:
    """A page of the viewer's notifications, newest first, in ``language`` (default:
    the viewer's). Raises InvalidCursor."""
    before = decode_cursor(cursor, ListKind.notifications)
    query = sa.select(Notification).where(access.own_filter(viewer, user_id=Notification.user_id))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(ListKind.notifications, rows[-1].id) if more and rows else None
    return [view_of(r, language or viewer.language) for r in rows], next_cursor


def read_notification(
    session: Session, clock: Clock, *, viewer: User, notification_id: int
) -> NotificationView:
    """Mark one of the viewer's notifications read (once: a second call keeps the first
    time). Raises NotificationNotFound (none, or someone else's)."""
    note = session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id,
            access.own_filter(viewer, user_id=Notification.user_id),
        )
    )
    if note is None:
        raise NotificationNotFound("notification not found")
    if note.read_at is None:
        note.read_at = clock.now()
        session.flush()
    return view_of(note, viewer.language)


def set_quiet_hours(
    session: Session, clock: Clock, *, viewer: User, start: time | None, end: time | None
) -> User:
    """Set (or, with None, clear) the viewer's quiet hours, local times in their center's
    time zone. Raises ManagersOnly, InvalidField (only one of the two, or equal)."""
    access.require_manager(viewer)
    if (start is None) != (end is None):
        raise InvalidField("end" if end is None else "start", "give both times, or neither")
    if start is not None and start == end:
        raise InvalidField("end", "must differ from start")
    now = clock.now()
    viewer.quiet_hours_start, viewer.quiet_hours_end = start, end
    viewer.updated_at = now
    record_event(
        session,
        at=now,
        actor=Actor.user(viewer),
        action="user.quiet_hours_set",
        subject_kind="user",
        subject_id=viewer.id,
        data={
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
    )
    session.flush()
    return viewer
