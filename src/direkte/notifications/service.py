"""The outbox: use cases write events in their transaction; a job delivers them later."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.network.models import Center, Region, User
from direkte.notifications.inbox import (
    NotificationView,
    list_notifications,
    read_notification,
    set_quiet_hours,
)
from direkte.notifications.models import Channel, Delivery, Notification, OutboxEvent, Webhook
from direkte.notifications.quiet import quiet_until

__all__ = [
    "NotificationView",
    "list_notifications",
    "read_notification",
    "set_quiet_hours",
]


def outbox_row(
    *,
    at: datetime,
    topic: str,
    aggregate_kind: str,
    aggregate_id: int | None,
    recipients: list[int | None],
    payload: dict[str, Any],
) -> dict[str, Any]:
    """One outbox event's values, for ``emit_row``."""
    return {
        "created_at": at,
        "topic": topic,
        "aggregate_kind": aggregate_kind,
        "aggregate_id": aggregate_id,
        "recipients": sorted({r for r in recipients if r is not None}),
        "payload": payload,
        "delivered_at": None,
        "attempts": 0,
    }


def emit_row(session: Session, row: dict[str, Any]) -> None:
    """Add an outbox event (``outbox_row`` values) to the caller's transaction.

    Sent only after it commits. A Core insert, sent at once: every state change emits one.
    """
    session.connection().execute(_INSERT, row)


def emit(
    session: Session,
    *,
    at: datetime,
    topic: str,
    aggregate_kind: str,
    aggregate_id: int,
    recipients: list[int | None],
    payload: dict[str, Any],
) -> None:
    """Add an outbox event to the caller's transaction (sent only after it commits)."""
    emit_row(
        session,
        outbox_row(
            at=at,
            topic=topic,
            aggregate_kind=aggregate_kind,
            aggregate_id=aggregate_id,
            recipients=recipients,
            payload=payload,
        ),
    )


_INSERT = sa.insert(OutboxEvent)


# Delivery: each event is tried on its own, so one that keeps failing (a poison event)
# never holds back the others. A failed try waits an exponential backoff with jitter;
# after MAX_ATTEMPTS tries the event is parked for ops and no longer retried.
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
_ERROR_LENGTH = 2000

log = logging.getLogger("direkte.notifications")


@dataclass
class DeliveryRound:
    """What one ``deliver_pending`` call did with the events it claimed."""

    delivered: int = 0
    retried: int = 0  # failed, and due again after a backoff
    parked: int = 0  # failed for the last allowed time

    @property
    def claimed(self) -> int:
        return self.delivered + self.retried + self.parked


def backoff(attempts: int, *, rand: Callable[[], float] = random.random) -> timedelta:
    """How long an event waits after its ``attempts``-th failed try.

    ``BACKOFF_BASE`` doubled per try, capped at ``BACKOFF_CAP``, then drawn between
    half and all of it, so that events failing together do not all come back at once.
    """
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(max(0, attempts - 1), 20)))
    return ceiling * (0.5 + 0.5 * rand())


# The events integrations may subscribe to (API.md), by outbox topic.
WEBHOOK_EVENTS: dict[str, str] = {
    "escalation.opened": "escalation.created",
    "escalation.approved": "escalation.created",
    "escalation.held": "escalation.held",
    "escalation.acknowledged": "escalation.acknowledged",
    "escalation.message": "escalation.message",
    "escalation.auto_escalated": "escalation.tier_changed",
    "escalation.resolved": "escalation.resolved",
    "escalation.appealed": "escalation.appealed",
    "escalation.rated": "escalation.rated",
}
EVENT_NAMES = tuple(sorted(set(WEBHOOK_EVENTS.values())))

# A webhook's body for an event: (API event name, the event, when) -> JSON text.
WebhookBody = Callable[[Session, str, OutboxEvent, datetime], str]


@dataclass(frozen=True)
class Channels:
    """Which channels beyond the in-app inbox an event fans out to.

    ``email``: every recipient also gets an e-mail (when SMTP is configured).
    ``webhook_body``: renders the body for subscribed webhooks (None: no webhooks).
    """

    email: bool = False
    webhook_body: WebhookBody | None = None


IN_APP_ONLY = Channels()


@dataclass
class _Fanout:
    """What ``deliver_pending`` reads once per batch for every event's fan-out: the
    webhooks, and the recipients with quiet hours (start, end, time zone)."""

    channels: Channels
    webhooks: list[Webhook]
    quiet: dict[int, tuple[time, time, str]] = field(default_factory=dict)
    # One body per case and event name in a batch: the case reads the same throughout.
    bodies: dict[tuple[str, int], str] = field(default_factory=dict)

    def wait_for(self, user_id: int, event: OutboxEvent, now: datetime) -> datetime | None:
        """When a notification for ``user_id`` may go: None now, else the end of their
        quiet hours (a safety-related case never waits)."""
        hours = self.quiet.get(user_id)
        if hours is None or event.payload.get("safety"):
            return None
        return quiet_until(now, *hours)


def deliver_event(
    session: Session, event: OutboxEvent, *, now: datetime, fanout: _Fanout | None = None
) -> None:
    """Deliver one event on every channel, writing in ``session`` only.

    The in-app inbox is written at once, unless the recipient is in quiet hours; then
    it becomes an in-app ``Delivery`` due when they end, as do e-mails and webhook calls
    (sent by ``sending`` after the commit). A channel raises to fail the try, and
    whatever it wrote is then rolled back with the rest of the event.
    """
    fanout = fanout or _Fanout(IN_APP_ONLY, [])
    waits = {user_id: fanout.wait_for(user_id, event, now) for user_id in event.recipients}
    session.add_all(
        Notification(
            user_id=user_id,
            outbox_event_id=event.id,
            topic=event.topic,
            payload=event.payload,
            created_at=now,
        )
        for user_id, wait in waits.items()
        if wait is None
    )
    held = [(Channel.in_app, user_id, wait) for user_id, wait in waits.items() if wait]
    mails = (
        [(Channel.email, u, w or now) for u, w in waits.items()] if fanout.channels.email else []
    )
    session.add_all(
        Delivery(
            outbox_event_id=event.id,
            channel=channel,
            user_id=user_id,
            created_at=now,
            due_at=due,
            attempts=0,
        )
        for channel, user_id, due in held + mails
    )
    _fan_out_webhooks(session, event, now=now, fanout=fanout)


def _fan_out_webhooks(
    session: Session, event: OutboxEvent, *, now: datetime, fanout: _Fanout
) -> None:
    name = WEBHOOK_EVENTS.get(event.topic)
    render = fanout.channels.webhook_body
    if name is None or render is None:
        return
    subscribed = [w for w in fanout.webhooks if name in w.events]
    if not subscribed:
        return
    key = (name, event.aggregate_id)
    body = fanout.bodies.get(key)
    if body is None:
        body = fanout.bodies[key] = render(session, name, event, now)
    session.add_all(
        Delivery(
            outbox_event_id=event.id,
            channel=Channel.webhook,
            webhook_id=hook.id,
            created_at=now,
            due_at=now,
            attempts=0,
            body=body,
        )
        for hook in subscribed
    )


def _quiet_recipients(
    session: Session, events: list[OutboxEvent]
) -> dict[int, tuple[time, time, str]]:
    """The batch's recipients who set quiet hours, with their center's (or region's) zone."""
    ids = {user_id for event in events for user_id in event.recipients}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(
            User.id,
            User.quiet_hours_start,
            User.quiet_hours_end,
            sa.func.coalesce(Center.time_zone, Region.time_zone, "UTC"),
        )
        .outerjoin(Center, Center.id == User.center_id)
        .outerjoin(Region, Region.id == User.region_id)
        .where(
            User.id.in_(ids),
            User.quiet_hours_start.is_not(None),
            User.quiet_hours_end.is_not(None),
        )
    )
    return {uid: (start, end, zone) for uid, start, end, zone in rows if start and end}


def deliver_pending(
    session: Session, *, now: datetime, batch: int = 500, channels: Channels = IN_APP_ONLY
) -> DeliveryRound:
    """Try to deliver up to ``batch`` due events: all in one savepoint, and when any
    fails, again each in a savepoint of its own.

    An event is marked delivered in the same transaction as the rows its delivery
    writes, so it is delivered once when the caller commits. Rows are claimed with
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serializes writers with
    ``BEGIN IMMEDIATE``), so several workers can deliver at once without doubles.
    Events that fail come back after ``backoff``; none is claimed twice in one call.
    """
    events = list(
        session.scalars(
            sa.select(OutboxEvent)
            .where(
                OutboxEvent.delivered_at.is_(None),
                OutboxEvent.parked_at.is_(None),
                sa.or_(OutboxEvent.next_attempt_at.is_(None), OutboxEvent.next_attempt_at <= now),
            )
            .order_by(OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    done = DeliveryRound()
    if not events:
        return done
    fanout = _Fanout(
        channels,
        _active_webhooks(session) if channels.webhook_body else [],
        _quiet_recipients(session, events),
    )
    # The common case, every event fine, costs a few statements per batch, not per event.
    try:
        with session.begin_nested():
            for event in events:
                deliver_event(session, event, now=now, fanout=fanout)
            session.flush()
            session.execute(
                sa.update(OutboxEvent)
                .where(OutboxEvent.id.in_([e.id for e in events]))
                .values(attempts=OutboxEvent.attempts + 1, delivered_at=now, next_attempt_at=None)
                .execution_options(synchronize_session=False)
            )
    except Exception:
        log.info("a batch of %s events failed as one; delivering them one by one", len(events))
    else:
        done.delivered = len(events)
        return done
    for event in events:
        try:
            with session.begin_nested():
                deliver_event(session, event, now=now, fanout=fanout)
                event.attempts += 1
                event.delivered_at = now
                event.next_attempt_at = None
        except Exception as exc:
            if _record_failure(event, exc, now=now):
                done.parked += 1
            else:
                done.retried += 1
        else:
            done.delivered += 1
    session.flush()
    return done


def _active_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(sa.select(Webhook).where(Webhook.deleted_at.is_(None))))


def _record_failure(event: OutboxEvent, exc: Exception, *, now: datetime) -> bool:
    """Count a failed try (its savepoint is rolled back); returns whether it parked."""
    event.attempts += 1
    event.last_error = f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH]
    if event.attempts >= MAX_ATTEMPTS:
        event.parked_at = now
        event.next_attempt_at = None
        log.error(
            "outbox event %s (%s) parked after %s tries: %s",
            event.id,
            event.topic,
            event.attempts,
            event.last_error,
        )
        return True
    event.next_attempt_at = now + backoff(event.attempts)
    log.warning(
        "outbox event %s (%s) failed try %s, next at %s: %s",
        event.id,
        event.topic,
        event.attempts,
        event.next_attempt_at.isoformat(),
        event.last_error,
    )
    return False


def count_parked(session: Session) -> int:
    """How many events are parked, waiting for ops."""
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.parked_at.is_not(None))
        )
        or 0
    )
