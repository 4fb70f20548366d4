"""Vehicles, service visits and the revisions made on them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from direkte.db import Base, ExactDecimal, UTCDateTime, enum_column
from direkte.network.models import Center, User


class VisitStatus(enum.StrEnum):
    scheduled = "scheduled"
    checked_in = "checked_in"
    diagnosing = "diagnosing"
    awaiting_approval = "awaiting_approval"
    in_repair = "in_repair"
    ready = "ready"
    closed = "closed"
    cancelled = "cancelled"


class CoverageKind(enum.StrEnum):
    basic = "basic"
    battery_drive_unit = "battery_drive_unit"


class LineKind(enum.StrEnum):
    part = "part"
    labour = "labour"


class WarrantyOutcome(enum.StrEnum):
    covered = "covered"
    not_covered = "not_covered"
    goodwill_partial = "goodwill_partial"


class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    vin: Mapped[str] = mapped_column(sa.String(17), unique=True)
    model: Mapped[str] = mapped_column(sa.String(100))
    model_year: Mapped[int] = mapped_column(sa.Integer)
    odometer_km: Mapped[int] = mapped_column(sa.Integer)
    delivery_date: Mapped[date | None] = mapped_column(sa.Date)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    coverages: Mapped[list[WarrantyCoverage]] = relationship(
        back_populates="vehicle", cascade="all, delete-orphan", order_by="WarrantyCoverage.kind"
    )

    __table_args__ = (
        sa.CheckConstraint("odometer_km >= 0", name="odometer_nonnegative"),
        sa.CheckConstraint("model_year BETWEEN 1980 AND 2100", name="model_year_range"),
    )


class WarrantyCoverage(Base):
    __tablename__ = "warranty_coverages"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicles.id", ondelete="CASCADE"))
    kind: Mapped[CoverageKind] = mapped_column(enum_column(CoverageKind, "coverage_kind"))
    years: Mapped[int] = mapped_column(sa.Integer)
    distance_km: Mapped[int] = mapped_column(sa.Integer)

    vehicle: Mapped[Vehicle] = relationship(back_populates="coverages")

    __table_args__ = (sa.UniqueConstraint("vehicle_id", "kind"),)


class Visit(Base):
    """A service visit (repair order), keyed for integrations by ``external_id``."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicles.id"))
    advisor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    concern: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[VisitStatus] = mapped_column(enum_column(VisitStatus, "visit_status"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_date: Mapped[date | None] = mapped_column(sa.Date)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when it reached ready, as the integration gives it (or when that was received)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drivable: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    center: Mapped[Center] = relationship()
    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    advisor: Mapped[User | None] = relationship(foreign_keys=[advisor_id])
    vehicle: Mapped[Vehicle] = relationship()
    status_changes: Mapped[list[VisitStatusChange]] = relationship(
        back_populates="visit", order_by="VisitStatusChange.id"
    )
    diagnoses: Mapped[list[Diagnosis]] = relationship(order_by="Diagnosis.seq")
    estimates: Mapped[list[Estimate]] = relationship(order_by="Estimate.seq")
    warranty_decisions: Mapped[list[WarrantyDecision]] = relationship(
        order_by="WarrantyDecision.seq"
    )

    __table_args__ = (
        sa.Index("ix_visits_customer_id_id", "customer_id", "id"),
        sa.Index("ix_visits_center_checked_in", "center_id", "checked_in_at"),
        # A car's visits, and the inbox's earlier visits: a customer's visits of the
        # car newest first (escalations/inbox_sql.py).
        sa.Index("ix_visits_vehicle_customer_id", "vehicle_id", "customer_id", "id"),
    )


class VisitStatusChange(Base):
    __tablename__ = "visit_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    from_status: Mapped[VisitStatus | None] = mapped_column(enum_column(VisitStatus, "from_status"))
    to_status: Mapped[VisitStatus] = mapped_column(enum_column(VisitStatus, "to_status"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(254))

    visit: Mapped[Visit] = relationship(back_populates="status_changes")


class Diagnosis(Base):
    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"))
    seq: Mapped[int] = mapped_column(sa.Integer)
    findings: Mapped[str] = mapped_column(sa.Text)
    codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    safety_related: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    author: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("visit_id", "seq"),)


class Estimate(Base):
    __tablename__ = "estimates"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"))
    seq: Mapped[int] = mapped_column(sa.Integer)
    currency: Mapped[str] = mapped_column(sa.String(3))
    total: Mapped[Decimal] = mapped_column(ExactDecimal(18, 4))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    author: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(sa.String(254))

    lines: Mapped[list[EstimateLine]] = relationship(
        cascade="all, delete-orphan", order_by="EstimateLine.position"
    )

    __table_args__ = (sa.UniqueConstraint("visit_id", "seq"),)


class EstimateLine(Base):
    __tablename__ = "estimate_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    estimate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("estimates.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer)
    kind: Mapped[LineKind] = mapped_column(enum_column(LineKind, "line_kind"))
    description: Mapped[str] = mapped_column(sa.String(500))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal(18, 4))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(18, 4))


class WarrantyDecision(Base):
    __tablename__ = "warranty_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"))
    seq: Mapped[int] = mapped_column(sa.Integer)
    decision: Mapped[WarrantyOutcome] = mapped_column(
        enum_column(WarrantyOutcome, "warranty_outcome")
    )
    currency: Mapped[str] = mapped_column(sa.String(3))
    claimed: Mapped[Decimal] = mapped_column(ExactDecimal(18, 4))
    covered: Mapped[Decimal] = mapped_column(ExactDecimal(18, 4))
    claim_lines: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    reason_code: Mapped[str] = mapped_column(sa.String(64))
    safety_related: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    estimate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estimates.id"))
    author: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("visit_id", "seq"),
        sa.CheckConstraint("covered >= 0", name="covered_nonnegative"),
    )


class VisitLists(Base):
    """A visit's revision lists as the inbox shows them (JSON), kept by PostgreSQL's
    triggers on every change of its diagnoses, estimates and warranty decisions
    (escalations/inbox_lists.py). Empty on SQLite, whose inbox reads the rows."""

    __tablename__ = "visit_lists"

    visit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True
    )
    diagnoses: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    diagnosis_codes: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    estimates: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    warranty_decisions: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
