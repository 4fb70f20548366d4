"""The figures' tables: the centers' local calendars (days and opening intervals in
UTC), the daily roll-ups the worker keeps, and the rollout's waves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from direkte.db import Base, UTCDateTime, enum_column
from direkte.network.models import Program


class CenterDay(Base):
    """One local calendar day of a center, as a UTC interval [starts_at, ends_at)
    (23 or 25 hours on a DST day), with its business time."""

    __tablename__ = "center_days"

    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    open_seconds: Mapped[int] = mapped_column(sa.Integer)


class CenterOpenInterval(Base):
    """One opening interval of a center's local day, in UTC (none on holidays and the
    center's closed dates): business time is the overlap with these."""

    __tablename__ = "center_open_intervals"

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("ix_center_open_intervals_center_opens", "center_id", "opens_at"),
        sa.Index("ix_center_open_intervals_center_day", "center_id", "day"),
    )


class CenterDayFigures(Base):
    """A center's figures on one local day (DESIGN §7), what the reads add up.

    Counts add across days; the durations are histograms (``CenterDayBucket``), which
    add too, so a percentile over any window is exact to the minute.
    """

    __tablename__ = "center_day_figures"

    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    business_day: Mapped[bool] = mapped_column(sa.Boolean)
    visits_checked_in: Mapped[int] = mapped_column(sa.Integer)
    same_day: Mapped[int] = mapped_column(sa.Integer)
    # vehicles checked in here for the first time (their first visit at this center)
    new_vehicles: Mapped[int] = mapped_column(sa.Integer)
    requests: Mapped[int] = mapped_column(sa.Integer)
    req_diagnosis: Mapped[int] = mapped_column(sa.Integer)
    req_warranty: Mapped[int] = mapped_column(sa.Integer)
    req_estimate: Mapped[int] = mapped_column(sa.Integer)
    dec_route: Mapped[int] = mapped_column(sa.Integer)
    dec_reject: Mapped[int] = mapped_column(sa.Integer)
    dec_moderate: Mapped[int] = mapped_column(sa.Integer)
    reached: Mapped[int] = mapped_column(sa.Integer)
    manager_cases: Mapped[int] = mapped_column(sa.Integer)
    managers: Mapped[int] = mapped_column(sa.Integer)
    resolved: Mapped[int] = mapped_column(sa.Integer)
    overturned: Mapped[int] = mapped_column(sa.Integer)
    sla_met: Mapped[int] = mapped_column(sa.Integer)
    ratings: Mapped[int] = mapped_column(sa.Integer)
    rating_sum: Mapped[int] = mapped_column(sa.Integer)
    ratings_4_5: Mapped[int] = mapped_column(sa.Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_center_day_figures_day", "day"),)


class CenterDayBucket(Base):
    """One bucket of a center's day histogram: ``kind`` names the histogram
    (``first_response``, ``resolution``: whole business minutes; ``booking_days``: days
    from booking to appointment; ``overturned_by_code``, ``resolved_by_code``,
    ``overturned_by_model``: root causes), ``key`` the bucket, ``n`` its count."""

    __tablename__ = "center_day_buckets"

    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.Index("ix_center_day_buckets_day", "day"),)


class CenterWeekBucket(Base):
    """A center's day histograms summed over one Monday-week (``week``, its Monday):
    kept beside ``CenterDayBucket`` whenever a day's buckets are written, so a read
    sums the whole weeks of its window from here and only the days at its edges from
    the day buckets (37 % of their rows on the 10,000,000-visit simulation, not a
    seventh: most minute buckets hold one case)."""

    __tablename__ = "center_week_buckets"

    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), primary_key=True)
    week: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.Index("ix_center_week_buckets_week", "week"),)


class RolloutWave(Base):
    """A planned set of centers to move into the program on a date, behind a gate."""

    __tablename__ = "rollout_waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(200))
    date: Mapped[date] = mapped_column(sa.Date)
    program: Mapped[Program] = mapped_column(enum_column(Program, "program"))
    center_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    # [{"figure", "op": "<=|>=", "value"}]
    gate: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(sa.String(254))
    forced: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    force_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
