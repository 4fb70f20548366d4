"""Sending the fanned-out deliveries: claim (a lease) → commit → send → record.

The network call happens outside any transaction: ``claim_due`` leases due rows and
the caller commits; the caller sends; ``record_try`` writes each result in a short
transaction. A worker that dies after its claim loses nothing: the rows are due
again once the lease has expired, and another worker sends them (with the same
``Message-ID`` or ``webhook-id``, so the receiver can tell a repeat). Each try is
kept (``DeliveryAttempt``); a failed one is retried with exponential backoff and
jitter until ``GIVE_UP_AFTER`` from the first try, then dead-lettered.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.network.models import User
from direkte.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Notification,
    OutboxEvent,
    Webhook,
)

LEASE = timedelta(minutes=2)
RETRY_BASE = timedelta(seconds=10)
RETRY_CAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Claim:
    """A leased delivery and everything its sender needs (read at the claim)."""

    id: int
    channel: Channel
    event_id: int
    topic: str
    payload: dict[str, Any]
    event_at: datetime
    created_at: datetime
    lease_until: datetime
    user_id: int | None = None
    email: str | None = None
    name: str | None = None
    language: str = "en"
    url: str | None = None
    secret: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class Result:
    """How one try went: ``ok``; the HTTP status of a webhook call; why it failed."""

    ok: bool
    response_code: int | None = None
    error: str | None = None


def retry_after(attempts: int, *, rand: Callable[[], float] = random.random) -> timedelta:
    """The wait after the ``attempts``-th failed try: ``RETRY_BASE`` doubled per try,
    capped at ``RETRY_CAP``, drawn between half and all of it (jitter)."""
    ceiling = min(RETRY_CAP, RETRY_BASE * (1 << min(max(0, attempts - 1), 20)))
    return ceiling * (0.5 + 0.5 * rand())


def claim_due(
    session: Session,
    *,
    now: datetime,
    channels: tuple[Channel, ...],
    batch: int = 100,
    lease: timedelta = LEASE,
) -> list[Claim]:
    """Lease up to ``batch`` due deliveries on ``channels``, oldest due first.

    Due: not settled, ``due_at`` passed, and no lease or an expired one. Rows are taken
    with ``FOR UPDATE SKIP LOCKED`` (SQLite serializes writers), so workers never
    claim one row at once; the caller commits before sending.
    """
    rows = list(
        session.scalars(
            sa.select(Delivery)
            .where(
                Delivery.due_at <= now,
                Delivery.channel.in_(channels),
                sa.or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
            )
            .order_by(Delivery.due_at, Delivery.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return []
    events = {
        e.id: e
        for e in session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.id.in_({r.outbox_event_id for r in rows}))
        )
    }
    users = {
        u.id: u
        for u in session.scalars(
            sa.select(User).where(User.id.in_({r.user_id for r in rows if r.user_id}))
        )
    }
    hooks = {
        w.id: w
        for w in session.scalars(
            sa.select(Webhook).where(Webhook.id.in_({r.webhook_id for r in rows if r.webhook_id}))
        )
    }
    until = now + lease
    claims = []
    for row in rows:
        row.lease_until = until
        event, user, hook = events[row.outbox_event_id], users.get(row.user_id or 0), None
        hook = hooks.get(row.webhook_id or 0)
        claims.append(
            Claim(
                id=row.id,
                channel=row.channel,
                event_id=event.id,
                topic=event.topic,
                payload=event.payload,
                event_at=event.created_at,
                created_at=row.created_at,
                lease_until=until,
                user_id=row.user_id,
                email=user.email if user and user.active else None,
                name=user.name if user else None,
                language=user.language if user else "en",
                url=hook.url if hook and hook.deleted_at is None else None,
                secret=hook.secret if hook else None,
                body=row.body,
            )
        )
    session.flush()
    return claims


def record_try(session: Session, claim: Claim, result: Result, *, now: datetime) -> bool:
    """Record one try of a claimed delivery; returns whether it is now dead-lettered.

    A try recorded after the lease was lost (another worker re-claimed the row) is
    kept as an attempt but does not change the row.
    """
    row = session.get(Delivery, claim.id, with_for_update=True, populate_existing=True)
    if row is None:
        return False
    ours = row.lease_until == claim.lease_until and row.due_at is not None
    next_at: datetime | None = None
    dead = False
    if ours:
        row.attempts += 1
        row.lease_until = None
        if result.ok:
            row.delivered_at, row.due_at, row.last_error = now, None, None
        else:
            row.last_error = (result.error or f"HTTP {result.response_code}")[:_ERROR_LENGTH]
            next_at = now + retry_after(row.attempts)
            if next_at - row.created_at > GIVE_UP_AFTER:
                row.dead_at, row.due_at, next_at, dead = now, None, None, True
            else:
                row.due_at = next_at
    session.add(
        DeliveryAttempt(
            delivery_id=claim.id,
            at=now,
            ok=result.ok,
            response_code=result.response_code,
            error=(result.error or None) and (result.error or "")[:_ERROR_LENGTH],
            next_attempt_at=next_at,
            dead_lettered=dead,
        )
    )
    session.flush()
    return dead


def deliver_in_app(session: Session, claim: Claim, *, now: datetime) -> None:
    """Write a held-back in-app notification (quiet hours over) and settle its row."""
    if claim.user_id is not None:
        session.add(
            Notification(
                user_id=claim.user_id,
                outbox_event_id=claim.event_id,
                topic=claim.topic,
                payload=claim.payload,
                created_at=now,
            )
        )
    record_try(session, claim, Result(ok=True), now=now)


def replay_dead(session: Session, *, delivery_id: int, now: datetime) -> Delivery | None:
    """Make a dead-lettered delivery due again, with a fresh 24 hours (None: not dead)."""
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None or row.dead_at is None:
        return None
    row.dead_at, row.due_at, row.lease_until, row.created_at = None, now, None, now
    session.flush()
    return row
