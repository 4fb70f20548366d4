"""The outbox: use cases write events in their transaction; a job delivers them later."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.notifications.inbox import (
    NotificationView,
    list_notifications,
    read_notification,
)
from direkte.notifications.models import Notification, OutboxEvent

__all__ = [
    "NotificationView",
    "list_notifications",
    "read_notification",
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


def deliver_event(session: Session, event: OutboxEvent, *, now: datetime) -> None:
    """Deliver one event on every channel, writing in ``session`` only.

    Today the one channel is the in-app inbox. A channel joins here; it raises to
    fail the try, and whatever it wrote is then rolled back with the rest of the event.
    """
    _notify_in_app(session, event, now=now)


def _notify_in_app(session: Session, event: OutboxEvent, *, now: datetime) -> None:
    session.add_all(
        Notification(
            user_id=user_id,
            outbox_event_id=event.id,
            topic=event.topic,
            payload=event.payload,
            created_at=now,
        )
        for user_id in event.recipients
    )


def deliver_pending(session: Session, *, now: datetime, batch: int = 500) -> DeliveryRound:
    """Try to deliver up to ``batch`` due events, each in a savepoint of its own.

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
    for event in events:
        try:
            with session.begin_nested():
                deliver_event(session, event, now=now)
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
