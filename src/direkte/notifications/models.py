"""The transactional outbox, and the in-app notifications delivered from it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from direkte.db import Base, UTCDateTime, enum_column


class OutboxEvent(Base):
    """A side effect to deliver after the commit that wrote it.

    ``attempts`` counts delivery tries (the successful one included). A failed try
    sets ``next_attempt_at`` (backoff) and ``last_error``; after the last allowed try
    the event is parked (``parked_at``) and no longer retried until ops release it.
    """

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    topic: Mapped[str] = mapped_column(sa.String(64))
    aggregate_kind: Mapped[str] = mapped_column(sa.String(32))
    aggregate_id: Mapped[int] = mapped_column(sa.Integer)
    recipients: Mapped[list[int]] = mapped_column(sa.JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_outbox_events_pending", "delivered_at", "id"),
        sa.Index("ix_outbox_events_parked_at", "parked_at"),
    )


class Notification(Base):
    """A message for one user's in-app inbox, made from an outbox event."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    outbox_event_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_events.id"))
    topic: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("user_id", "outbox_event_id"),)


class Channel(enum.StrEnum):
    email = "email"
    webhook = "webhook"
    in_app = "in_app"  # an in-app notification held back by quiet hours


class Delivery(Base):
    """One event to send on one channel to one recipient (a user's e-mail, a webhook).

    Written when the outbox event is fanned out, in the same transaction, so what was
    sent is recorded per channel: a retry sends only what has not gone. A worker claims
    due rows (``lease_until``: others leave them alone until then), commits, sends
    outside any transaction, and records the try; a worker that dies after claiming
    loses nothing, as the row is due again once its lease has expired. ``due_at`` is
    NULL once the row is settled (``delivered_at`` or ``dead_at``).
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    outbox_event_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_events.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "delivery_channel"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    webhook_id: Mapped[int | None] = mapped_column(sa.ForeignKey("webhooks.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    body: Mapped[str | None] = mapped_column(sa.Text)  # a webhook's signed body, fixed

    __table_args__ = (sa.Index("ix_deliveries_due", "due_at"),)


class DeliveryAttempt(Base):
    """One try of a delivery: its result, and when the next try is (or that it died)."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(sa.Boolean)
    response_code: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_lettered: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class Webhook(Base):
    """An integration's subscription to events; the secret signs every body."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list[str]] = mapped_column(sa.JSON)
    secret: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
