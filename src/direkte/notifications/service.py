"""The outbox: use cases write events in their transaction; a job delivers them later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.notifications.models import Notification, OutboxEvent


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


def deliver_pending(session: Session, *, now: datetime, batch: int = 500) -> int:
    """Turn pending outbox events into in-app notifications; returns how many events.

    Rows are claimed with SKIP LOCKED, so several workers can deliver at once.
    """
    events = list(
        session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.delivered_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    for event in events:
        event.attempts += 1
        for user_id in event.recipients:
            session.add(
                Notification(
                    user_id=user_id,
                    outbox_event_id=event.id,
                    topic=event.topic,
                    payload=event.payload,
                    created_at=now,
                )
            )
        event.delivered_at = now
    session.flush()
    return len(events)


def list_notifications(session: Session, *, user_id: int, limit: int) -> list[Notification]:
    return list(
        session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )
