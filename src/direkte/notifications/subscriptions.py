"""Ops' webhooks: register (the secret shown once), list, delete, look at every
delivery attempt, and replay a dead letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.kit.pagination import ListKind, decode_cursor, encode_cursor
from direkte.network.models import User
from direkte.notifications.errors import (
    DeliveryNotFound,
    InvalidWebhookUrl,
    NotDeadLettered,
    UnknownEvent,
    WebhookNotFound,
)
from direkte.notifications.models import Delivery, DeliveryAttempt, OutboxEvent, Webhook
from direkte.notifications.sending import replay_dead
from direkte.notifications.service import EVENT_NAMES, WEBHOOK_EVENTS
from direkte.notifications.webhooks import UnsafeTarget, check_url, new_secret


def register_webhook(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    url: str,
    events: list[str],
    allow_private: bool,
) -> Webhook:
    """Subscribe ``url`` to ``events``; the returned webhook carries its new secret.

    Raises OpsOnly, UnknownEvent, InvalidWebhookUrl (not https, not public, or the host
    does not resolve; ``allow_private`` lets http and private addresses through).
    """
    access.require_ops(viewer)
    unknown = sorted(set(events) - set(EVENT_NAMES))
    if unknown:
        raise UnknownEvent(unknown, EVENT_NAMES)
    try:
        check_url(url, allow_private=allow_private)
    except UnsafeTarget as exc:
        raise InvalidWebhookUrl(str(exc)) from None
    now = clock.now()
    hook = Webhook(
        url=url,
        events=sorted(set(events)),
        secret=new_secret(),
        created_at=now,
        created_by=viewer.id,
    )
    session.add(hook)
    session.flush()
    record_event(
        session,
        at=now,
        actor=Actor.user(viewer),
        action="webhook.registered",
        subject_kind="webhook",
        subject_id=hook.id,
        data={"url": url, "events": hook.events},
    )
    return hook


def list_webhooks(
    session: Session, *, viewer: User, limit: int, cursor: str | None
) -> tuple[list[Webhook], str | None]:
    """The registered webhooks, newest first. Raises OpsOnly, InvalidCursor."""
    access.require_ops(viewer)
    before = decode_cursor(cursor, ListKind.webhooks)
    query = sa.select(Webhook).where(Webhook.deleted_at.is_(None))
    if before is not None:
        query = query.where(Webhook.id < before)
    rows = list(session.scalars(query.order_by(Webhook.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(ListKind.webhooks, rows[-1].id) if more and rows else None


def _get_webhook(session: Session, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.deleted_at is not None:
        raise WebhookNotFound("webhook not found")
    return hook


def delete_webhook(session: Session, clock: Clock, *, viewer: User, webhook_id: int) -> None:
    """Stop a webhook (its deliveries stay visible). Raises OpsOnly, WebhookNotFound."""
    access.require_ops(viewer)
    hook = _get_webhook(session, webhook_id)
    now = clock.now()
    hook.deleted_at = now
    session.execute(
        sa.update(Delivery)
        .where(Delivery.webhook_id == hook.id, Delivery.due_at.is_not(None))
        .values(due_at=None, dead_at=now, last_error="the webhook was deleted")
    )
    record_event(
        session,
        at=now,
        actor=Actor.user(viewer),
        action="webhook.deleted",
        subject_kind="webhook",
        subject_id=hook.id,
    )
    session.flush()


@dataclass(frozen=True)
class AttemptView:
    """One try of one webhook delivery."""

    id: int
    delivery_id: int
    event_id: int
    type: str
    at: datetime
    status: str  # delivered | failed | dead_lettered
    response_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    dead_lettered: bool


def list_deliveries(
    session: Session, *, viewer: User, webhook_id: int, limit: int, cursor: str | None
) -> tuple[list[AttemptView], str | None]:
    """Every attempt to deliver to a webhook, newest first.

    Raises OpsOnly, WebhookNotFound, InvalidCursor.
    """
    access.require_ops(viewer)
    _get_webhook(session, webhook_id)
    before = decode_cursor(cursor, ListKind.webhook_attempts)
    query = (
        sa.select(DeliveryAttempt, Delivery.outbox_event_id, OutboxEvent.topic)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .join(OutboxEvent, OutboxEvent.id == Delivery.outbox_event_id)
        .where(Delivery.webhook_id == webhook_id)
    )
    if before is not None:
        query = query.where(DeliveryAttempt.id < before)
    rows = session.execute(query.order_by(DeliveryAttempt.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    views = [
        AttemptView(
            id=a.id,
            delivery_id=a.delivery_id,
            event_id=event_id,
            type=WEBHOOK_EVENTS.get(topic, topic),
            at=a.at,
            status="delivered" if a.ok else "dead_lettered" if a.dead_lettered else "failed",
            response_code=a.response_code,
            error=a.error,
            next_attempt_at=a.next_attempt_at,
            dead_lettered=a.dead_lettered,
        )
        for a, event_id, topic in rows
    ]
    return views, encode_cursor(
        ListKind.webhook_attempts, rows[-1][0].id
    ) if more and rows else None


def replay_delivery(
    session: Session, clock: Clock, *, viewer: User, webhook_id: int, delivery_id: int
) -> Delivery:
    """Send a dead-lettered delivery again (due now, with a fresh 24 hours of retries).

    Raises OpsOnly, WebhookNotFound, DeliveryNotFound, NotDeadLettered.
    """
    access.require_ops(viewer)
    _get_webhook(session, webhook_id)
    row = session.get(Delivery, delivery_id)
    if row is None or row.webhook_id != webhook_id:
        raise DeliveryNotFound("delivery not found")
    now = clock.now()
    replayed = replay_dead(session, delivery_id=delivery_id, now=now)
    if replayed is None:
        raise NotDeadLettered("only a dead-lettered delivery can be replayed")
    record_event(
        session,
        at=now,
        actor=Actor.user(viewer),
        action="webhook.delivery_replayed",
        subject_kind="webhook",
        subject_id=webhook_id,
        data={"delivery_id": delivery_id},
    )
    return replayed
