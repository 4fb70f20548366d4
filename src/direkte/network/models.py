"""Regions, service centers and the people who use direkte."""

from __future__ import annotations

import enum
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from direkte.db import Base, UTCDateTime, enum_column


class Program(enum.StrEnum):
    off = "off"
    pilot = "pilot"
    on = "on"


class Role(enum.StrEnum):
    customer = "customer"
    service_advisor = "service_advisor"
    local_manager = "local_manager"
    regional_manager = "regional_manager"
    ops_admin = "ops_admin"


STAFF_ROLES = frozenset(Role) - {Role.customer}


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    countries: Mapped[list[str]] = mapped_column(sa.JSON)
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    centers: Mapped[list[Center]] = relationship(back_populates="region")


class Center(Base):
    __tablename__ = "centers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    country: Mapped[str] = mapped_column(sa.String(2))
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    # {"mon": [["08:00", "16:00"]], ...}: local wall-clock intervals, sorted, disjoint
    business_hours: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    closed_dates: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    capacity_bays: Mapped[int] = mapped_column(sa.Integer, default=4)
    currency: Mapped[str] = mapped_column(sa.String(3))
    program: Mapped[Program] = mapped_column(enum_column(Program, "program"), default=Program.off)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    region: Mapped[Region] = relationship(back_populates="centers")

    __table_args__ = (
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        sa.CheckConstraint("capacity_bays >= 0", name="capacity_nonnegative"),
    )


class CenterProgramChange(Base):
    """One change of a center's program state: from ``changed_at`` on, the center was in
    ``program`` until its next change. The history the figures split by (a center's day
    belongs to the state it was in that day) and the rollout records its moves in."""

    __tablename__ = "center_program_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), index=True)
    program: Mapped[Program] = mapped_column(enum_column(Program, "program"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # who: a user's e-mail, or 'system', 'network-file', 'simulator', 'migration'
    actor: Mapped[str] = mapped_column(sa.String(254))
    reason: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.Index("ix_center_program_changes_center_at", "center_id", "changed_at"),)


class User(Base):
    """A customer or a staff member; ``role`` says which. Log-in is by e-mail."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    title: Mapped[str | None] = mapped_column(sa.String(200))
    center_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centers.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    on_duty: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    deputy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # A manager's quiet hours, local times in their center's (a regional manager: their
    # region's) time zone; notifications due then wait (DESIGN §7a).
    quiet_hours_start: Mapped[time | None] = mapped_column(sa.Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(sa.Time)
    # Every bearer token carries the epoch it was issued in; a password change or a
    # disabling moves it on, so every older token is refused at once, everywhere.
    token_epoch: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    center: Mapped[Center | None] = relationship(foreign_keys=[center_id])
    region: Mapped[Region | None] = relationship(foreign_keys=[region_id])
    deputy: Mapped[User | None] = relationship(remote_side=[id], foreign_keys=[deputy_id])

    __table_args__ = (
        sa.CheckConstraint(
            "role NOT IN ('service_advisor', 'local_manager') OR center_id IS NOT NULL",
            name="center_staff_have_center",
        ),
        sa.CheckConstraint(
            "role <> 'regional_manager' OR region_id IS NOT NULL",
            name="regional_manager_has_region",
        ),
    )

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES
