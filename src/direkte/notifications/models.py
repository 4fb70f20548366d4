"""The transactional outbox, and the in-app notifications delivered from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from direkte.db import Base, UTCDateTime


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
