"""Escalation cases, every request made for one, their timeline and their conversation."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from direkte.db import Base, ExactDecimal, UTCDateTime, enum_column
from direkte.network.models import User
from direkte.visits.models import Visit


class Category(enum.StrEnum):
    diagnosis = "diagnosis"
    warranty = "warranty"
    estimate = "estimate"


class EscalationStatus(enum.StrEnum):
    held = "held"
    open = "open"
    acknowledged = "acknowledged"
    awaiting_customer = "awaiting_customer"
    resolved = "resolved"
    closed = "closed"
    withdrawn = "withdrawn"
    rejected = "rejected"


class Outcome(enum.StrEnum):
    upheld = "upheld"
    revised = "revised"
    goodwill = "goodwill"


class MessageKind(enum.StrEnum):
    message = "message"
    note = "note"
    call = "call"


# Statuses in which the case waits on someone; the SLA sweep looks only at these.
ACTIVE = (EscalationStatus.open, EscalationStatus.acknowledged, EscalationStatus.awaiting_customer)


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    subject_id: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[EscalationStatus] = mapped_column(enum_column(EscalationStatus, "status"))
    tier: Mapped[int] = mapped_column(sa.SmallInteger)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    guardrail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # The decision as staff see it, kept by a trigger on PostgreSQL for the inbox's page
    # (escalations/inbox_lists.py); NULL on SQLite. Never loaded with the case.
    guardrail_shown: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, deferred=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    # Held by the guardrails and not released by ops: the customer's and ops' alone,
    # also once rejected or withdrawn (access.case_filter).
    held_back: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # SLA: due times in the center's business hours; sla_next_due is the earliest
    # unmet one while the clock runs (NULL when paused or met): the sweep's index.
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_next_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, "outcome"))
    amount_delta: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 4))
    currency: Mapped[str] = mapped_column(sa.String(3))
    outcome_note: Mapped[str | None] = mapped_column(sa.Text)
    outcome_tier: Mapped[int | None] = mapped_column(sa.SmallInteger)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_reason: Mapped[str | None] = mapped_column(sa.Text)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    rating_score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(sa.Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship()
    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    events: Mapped[list[EscalationEvent]] = relationship(order_by="EscalationEvent.id")
    messages: Mapped[list[EscalationMessage]] = relationship(order_by="EscalationMessage.id")

    __table_args__ = (
        sa.CheckConstraint("tier BETWEEN 0 AND 2", name="tier_range"),
        sa.CheckConstraint("rating_score IS NULL OR rating_score BETWEEN 1 AND 5", name="rating"),
        sa.Index("ix_escalations_visit_category_status", "visit_id", "category", "status"),
        sa.Index("ix_escalations_tier_sla_next_due", "tier", "sla_next_due"),
        sa.Index("ix_escalations_status_resolved_at", "status", "resolved_at"),
        # The guardrails' frequency look-ups (cases in 365 days, recent outcomes) and load.
        sa.Index("ix_escalations_customer_created", "customer_id", "created_at"),
        sa.Index("ix_escalations_customer_resolved", "customer_id", "resolved_at"),
        sa.Index("ix_escalations_assignee_status", "assignee_id", "status"),
    )


class EscalationRequest(Base):
    """Every request to escalate, with the facts it was decided on and the decision."""

    __tablename__ = "escalation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # create | appeal
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"))
    category: Mapped[str] = mapped_column(sa.String(16))
    subject_id: Mapped[int | None] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.Text)
    facts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    decision: Mapped[str] = mapped_column(sa.String(16))
    tier: Mapped[int | None] = mapped_column(sa.SmallInteger)
    policy_version: Mapped[str] = mapped_column(sa.String(32))
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    escalation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("escalations.id"), index=True)
    folded: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class EscalationEvent(Base):
    """The case's timeline: every transition, reassignment and tier change."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(sa.ForeignKey("escalations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(sa.String(32))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str | None] = mapped_column(sa.String(32))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class EscalationMessage(Base):
    """Thread messages (both ways), staff-only notes and logged calls."""

    __tablename__ = "escalation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(sa.ForeignKey("escalations.id"), index=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, "message_kind"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(sa.String(32))
    author_name: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
