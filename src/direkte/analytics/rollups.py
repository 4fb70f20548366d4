"""The daily roll-ups behind the figures (DESIGN §7): a center's figures per local day,
computed in SQL on both databases against the center's calendar, and kept by the worker
for the days whose inputs changed.

The calendar (``center_days``, ``center_open_intervals``) holds each local day of a
center as a UTC interval (23 or 25 hours on a DST day) and its opening intervals in UTC
(none on public holidays and closed dates), built from ``network.hours``. With it, "the
local day an instant falls on" is a range join and "business time between two instants"
is the sum of their overlaps with the opening intervals, in plain SQL on SQLite and
PostgreSQL alike.

A change that alters figures writes a dirty mark (``direkte.marks``) in its own
transaction; ``refresh_dirty`` reads a batch of marks, recomputes each (center, local
day) they name and deletes the marks it read, in one transaction, so a change
committed meanwhile leaves its mark for the next round.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.analytics.models import (
    CenterDay,
    CenterDayBucket,
    CenterDayFigures,
    CenterOpenInterval,
    CenterWeekBucket,
)
from direkte.db import UTCDateTime
from direkte.escalations.models import Escalation, EscalationRequest
from direkte.marks import FigureDirtyMark
from direkte.network.hours import OpeningHours, opening_hours
from direkte.network.models import Center, Role, User
from direkte.visits.models import Visit

# How far before a computed day the calendar reaches: business time of a case is
# counted from its creation, which may lie weeks before the day it is resolved.
CALENDAR_LOOKBACK_DAYS = 400
# Dirty days of one center further apart than this are recomputed as separate runs.
_RUN_GAP_DAYS = 7

FIGURE_COUNTS = (
    "visits_checked_in",
    "same_day",
    "new_vehicles",
    "requests",
    "req_diagnosis",
    "req_warranty",
    "req_estimate",
    "dec_route",
    "dec_reject",
    "dec_moderate",
    "reached",
    "manager_cases",
    "resolved",
    "overturned",
    "sla_met",
    "ratings",
    "rating_sum",
    "ratings_4_5",
)
FIGURE_HISTOGRAMS = (
    "booking_days",
    "first_response",
    "resolution",
    "overturned_by_code",
    "overturned_by_model",
    "resolved_by_code",
)


# ---- the calendar ------------------------------------------------------------------


def _local_bounds(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    starts = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return starts, ends


def _intervals(hours: OpeningHours, day: date) -> list[tuple[datetime, datetime]]:
    out = []
    for start, end in hours.intervals_on(day):
        opens = datetime.combine(day, start, tzinfo=hours.zone).astimezone(UTC)
        if end == time.max:
            closes = _local_bounds(hours.zone, day)[1]
        else:
            closes = datetime.combine(day, end, tzinfo=hours.zone).astimezone(UTC)
        if closes > opens:
            out.append((opens, closes))
    return out


def hours_of(center: Center) -> OpeningHours:
    return opening_hours(
        center.time_zone, center.country, center.business_hours, center.closed_dates
    )


def ensure_calendar(session: Session, center: Center, first: date, last: date) -> None:
    """Write the center's calendar days (and opening intervals) in [first, last] that
    are missing."""
    have = set(
        session.scalars(
            sa.select(CenterDay.day).where(
                CenterDay.center_id == center.id, CenterDay.day.between(first, last)
            )
        )
    )
    if len(have) == (last - first).days + 1:
        return
    hours = hours_of(center)
    days, intervals = [], []
    day = first
    while day <= last:
        if day not in have:
            starts, ends = _local_bounds(hours.zone, day)
            opens = _intervals(hours, day)
            days.append(
                {
                    "center_id": center.id,
                    "day": day,
                    "starts_at": starts,
                    "ends_at": ends,
                    "open_seconds": int(sum((c - o).total_seconds() for o, c in opens)),
                }
            )
            intervals += [
                {"center_id": center.id, "day": day, "opens_at": o, "closes_at": c}
                for o, c in opens
            ]
        day += timedelta(days=1)
    conn = session.connection()
    for chunk in _chunks(days, 2000):
        conn.execute(sa.insert(CenterDay), chunk)
    for chunk in _chunks(intervals, 2000):
        conn.execute(sa.insert(CenterOpenInterval), chunk)


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def local_day(zone: ZoneInfo, instant: datetime) -> date:
    return instant.astimezone(zone).date()


# ---- the statements ----------------------------------------------------------------


@dataclass(frozen=True)
class _Dialect:
    """The few expressions the databases spell differently."""

    epoch: str  # seconds since 1970 of a stored instant: {x}
    least: str
    greatest: str
    days_between: str  # whole days from date {a} to date {b}
    utc_day: str  # the UTC date of a stored instant {x}, shifted by {n} days

    def seconds(self, x: str) -> str:
        return self.epoch.format(x=x)

    def day_near(self, x: str, n: int) -> str:
        return self.utc_day.format(x=x, n=n)


_PG = _Dialect(
    epoch="EXTRACT(EPOCH FROM {x})",
    least="LEAST",
    greatest="GREATEST",
    days_between="({b} - {a})",
    utc_day="(CAST(({x}) AT TIME ZONE 'UTC' AS DATE) + ({n}))",
)
_SQLITE = _Dialect(
    epoch="((julianday({x}) - 2440587.5) * 86400.0)",
    least="MIN",
    greatest="MAX",
    days_between="CAST(round(julianday({b}) - julianday({a})) AS INTEGER)",
    utc_day="date({x}, '{n:+d} days')",
)


def _dialect(session: Session) -> _Dialect:
    return _PG if session.get_bind().dialect.name == "postgresql" else _SQLITE


def _business_seconds(d: _Dialect, center: str, start: str, end: str) -> str:
    """Business seconds in [start, end): the overlaps with the center's open intervals
    (those of the local days from the one before start's UTC date to the one after
    end's: the index on (center, day) reads only those)."""
    return (
        f"(SELECT COALESCE(SUM({d.seconds(f'{d.least}(i.closes_at, {end})')}"
        f" - {d.seconds(f'{d.greatest}(i.opens_at, {start})')}), 0)"
        f" FROM center_open_intervals i WHERE i.center_id = {center}"
        f" AND i.day BETWEEN {d.day_near(start, -1)} AND {d.day_near(end, 1)}"
        f" AND i.opens_at < {end} AND i.closes_at > {start})"
    )


def _on_day(d: _Dialect, cd: str, x: str) -> str:
    """Instant ``x`` falls on the calendar day ``cd``: within its UTC interval. A local
    day is within one day of the instant's UTC date, which the join also says so that
    the day is found by the primary key (center, day), not by scanning the calendar."""
    return (
        f"{x} >= {cd}.starts_at AND {x} < {cd}.ends_at"
        f" AND {cd}.day BETWEEN {d.day_near(x, -1)} AND {d.day_near(x, 1)}"
    )


# The computed days, and the instants of the row that the statement is driven by:
# from the first day's start to the last day's end (bound as :t0, :t1), so the rows
# are read by the index on (center, instant) where there is one.
_DAYS = "cd.center_id = :center AND cd.day BETWEEN :d0 AND :d1"


def _window(x: str) -> str:
    return f"{x} >= :t0 AND {x} < :t1"


_ENDED = "('resolved', 'closed', 'withdrawn', 'rejected')"


def _statements(d: _Dialect) -> dict[str, sa.TextClause]:
    # A case still open at the end of the day: created before the day's end, and its
    # last status before then (its timeline) not a settled one.
    open_at_end = (
        "EXISTS (SELECT 1 FROM escalations e WHERE e.visit_id = v.id"
        " AND e.created_at < cd.ends_at AND COALESCE((SELECT ev.to_status"
        " FROM escalation_events ev WHERE ev.escalation_id = e.id"
        " AND ev.to_status IS NOT NULL AND ev.at < cd.ends_at"
        f" ORDER BY ev.at DESC, ev.id DESC LIMIT 1), 'open') NOT IN {_ENDED})"
    )
    done = "COALESCE(v.ready_at, v.closed_at)"
    checked_in = (
        " FROM visits v JOIN center_days cd ON cd.center_id = v.center_id"
        f" AND {_on_day(d, 'cd', 'v.checked_in_at')}"
        f" WHERE v.center_id = :center AND {_window('v.checked_in_at')} AND {_DAYS}"
    )
    visits = (
        "SELECT cd.day, COUNT(*) AS visits_checked_in,"
        f" SUM(CASE WHEN {done} IS NOT NULL AND {done} < cd.ends_at"
        f" AND NOT {open_at_end} THEN 1 ELSE 0 END) AS same_day"
        f"{checked_in} GROUP BY cd.day"
    )
    new_vehicles = (
        f"SELECT cd.day, COUNT(DISTINCT v.vehicle_id) AS new_vehicles{checked_in}"
        " AND NOT EXISTS (SELECT 1 FROM visits w"
        " WHERE w.vehicle_id = v.vehicle_id AND w.center_id = v.center_id"
        " AND w.checked_in_at < cd.starts_at) GROUP BY cd.day"
    )
    booking = (
        "SELECT cd.day, "
        + d.days_between.format(a="b.day", b="v.appointment_date")
        + " AS n, COUNT(*) AS k"
        " FROM visits v JOIN center_days cd ON cd.center_id = v.center_id"
        f" AND {_on_day(d, 'cd', 'v.checked_in_at')}"
        " JOIN center_days b ON b.center_id = v.center_id"
        f" AND {_on_day(d, 'b', 'v.booked_at')}"
        f" WHERE v.center_id = :center AND {_window('v.checked_in_at')} AND {_DAYS}"
        " AND v.appointment_date IS NOT NULL GROUP BY cd.day, n"
    )

    def escalations_on(x: str) -> str:
        return (
            " FROM escalations e JOIN center_days cd ON cd.center_id = e.center_id"
            f" AND {_on_day(d, 'cd', x)}"
            f" WHERE e.center_id = :center AND {_window(x)} AND {_DAYS}"
        )

    requests = (
        "SELECT cd.day, COUNT(*) AS requests,"
        " SUM(CASE WHEN r.category = 'diagnosis' THEN 1 ELSE 0 END) AS req_diagnosis,"
        " SUM(CASE WHEN r.category = 'warranty' THEN 1 ELSE 0 END) AS req_warranty,"
        " SUM(CASE WHEN r.category = 'estimate' THEN 1 ELSE 0 END) AS req_estimate,"
        " SUM(CASE WHEN r.decision = 'route' THEN 1 ELSE 0 END) AS dec_route,"
        " SUM(CASE WHEN r.decision = 'reject' THEN 1 ELSE 0 END) AS dec_reject,"
        " SUM(CASE WHEN r.decision = 'moderate' THEN 1 ELSE 0 END) AS dec_moderate,"
        " SUM(CASE WHEN r.decision = 'route' AND r.tier >= 1 AND NOT r.folded"
        " THEN 1 ELSE 0 END) AS reached"
        " FROM escalation_requests r JOIN center_days cd ON cd.center_id = r.center_id"
        f" AND {_on_day(d, 'cd', 'r.created_at')}"
        f" WHERE r.center_id = :center AND {_window('r.created_at')} AND {_DAYS}"
        " GROUP BY cd.day"
    )
    breaches = (
        f"SELECT cd.day, COUNT(*) AS breaches{escalations_on('e.breached_at')} GROUP BY cd.day"
    )
    resolved = (
        "SELECT cd.day, COUNT(*) AS resolved,"
        " SUM(CASE WHEN e.outcome IN ('revised', 'goodwill') THEN 1 ELSE 0 END) AS overturned,"
        " SUM(CASE WHEN (e.first_response_due IS NULL"
        " OR COALESCE(e.first_response_at, e.resolved_at) <= e.first_response_due)"
        " AND (e.resolution_due IS NULL OR e.resolved_at <= e.resolution_due)"
        " THEN 1 ELSE 0 END) AS sla_met"
        f"{escalations_on('e.resolved_at')} AND e.outcome IS NOT NULL GROUP BY cd.day"
    )
    minutes_to_resolve = (
        "SELECT cd.day, CAST("
        + _business_seconds(d, "e.center_id", "e.created_at", "e.resolved_at")
        + " / 60 AS INTEGER) AS m"
        f"{escalations_on('e.resolved_at')} AND e.outcome IS NOT NULL"
    )
    minutes_to_respond = (
        "SELECT cd.day, CAST("
        + _business_seconds(d, "e.center_id", "e.created_at", "e.first_response_at")
        + f" / 60 AS INTEGER) AS m{escalations_on('e.first_response_at')}"
    )
    ratings = (
        "SELECT cd.day, COUNT(*) AS ratings, SUM(e.rating_score) AS rating_sum,"
        " SUM(CASE WHEN e.rating_score >= 4 THEN 1 ELSE 0 END) AS ratings_4_5"
        f"{escalations_on('e.rated_at')} AND e.rating_score IS NOT NULL GROUP BY cd.day"
    )
    overturned = (
        "SELECT cd.day, veh.model AS model, (SELECT dg.codes FROM diagnoses dg"
        " WHERE dg.visit_id = e.visit_id ORDER BY dg.seq DESC LIMIT 1) AS codes,"
        " CASE WHEN e.outcome IN ('revised', 'goodwill') THEN 1 ELSE 0 END AS overturned"
        " FROM escalations e JOIN center_days cd ON cd.center_id = e.center_id"
        f" AND {_on_day(d, 'cd', 'e.resolved_at')}"
        " JOIN visits v ON v.id = e.visit_id JOIN vehicles veh ON veh.id = v.vehicle_id"
        f" WHERE e.center_id = :center AND {_window('e.resolved_at')} AND {_DAYS}"
        " AND e.outcome IS NOT NULL"
    )
    days = f"SELECT cd.day, cd.open_seconds FROM center_days cd WHERE {_DAYS}"
    typed: dict[str, Any] = {"d0": sa.Date(), "d1": sa.Date()}
    instants: dict[str, Any] = {"t0": UTCDateTime(), "t1": UTCDateTime()}
    return {
        name: sa.text(sql).bindparams(
            *(
                sa.bindparam(k, type_=t)
                for k, t in (typed | (instants if ":t0" in sql else {})).items()
            )
        )
        for name, sql in {
            "days": days,
            "visits": visits,
            "new_vehicles": new_vehicles,
            "booking": booking,
            "requests": requests,
            "breaches": breaches,
            "resolved": resolved,
            "minutes_to_resolve": minutes_to_resolve,
            "minutes_to_respond": minutes_to_respond,
            "ratings": ratings,
            "overturned": overturned,
        }.items()
    }


_CACHE: dict[str, dict[str, sa.TextClause]] = {}


def _statements_for(session: Session) -> dict[str, sa.TextClause]:
    name = session.get_bind().dialect.name
    if name not in _CACHE:
        _CACHE[name] = _statements(_dialect(session))
    return _CACHE[name]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _empty(center_id: int, day: date, open_seconds: int, managers: int) -> dict[str, Any]:
    row: dict[str, Any] = {"center_id": center_id, "day": day}
    row |= dict.fromkeys(FIGURE_COUNTS, 0)
    row |= {name: {} for name in FIGURE_HISTOGRAMS}
    row |= {"business_day": open_seconds > 0, "managers": managers}
    return row


def compute_days(session: Session, center: Center, first: date, last: date) -> list[dict[str, Any]]:
    """The center's figure rows for each local day in [first, last], read afresh."""
    ensure_calendar(
        session, center, first - timedelta(days=CALENDAR_LOOKBACK_DAYS), last + timedelta(days=1)
    )
    q = _statements_for(session)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Each statement reads one center's rows through indexes in well under a second;
        # compiling it first (JIT, triggered by the planner's guess at the calendar
        # join) took longer than running it. For the rest of this transaction.
        conn.exec_driver_sql("SET LOCAL jit = off")
    zone = ZoneInfo(center.time_zone)
    params = {
        "center": center.id,
        "d0": first,
        "d1": last,
        "t0": _local_bounds(zone, first)[0],
        "t1": _local_bounds(zone, last)[1],
    }
    managers = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(User.center_id == center.id, User.role == Role.local_manager, User.active)
        )
        or 0
    )
    rows = {
        _as_date(day): _empty(center.id, _as_date(day), secs, managers)
        for day, secs in conn.execute(q["days"], params)
    }

    def add(name: str, *columns: str) -> None:
        for r in conn.execute(q[name], params).mappings():
            row = rows[_as_date(r["day"])]
            for c in columns:
                row[c] += int(r[c] or 0)

    add("visits", "visits_checked_in", "same_day")
    add("new_vehicles", "new_vehicles")
    add(
        "requests",
        "requests",
        "req_diagnosis",
        "req_warranty",
        "req_estimate",
        "dec_route",
        "dec_reject",
        "dec_moderate",
        "reached",
    )
    add("resolved", "resolved", "overturned", "sla_met")
    add("ratings", "ratings", "rating_sum", "ratings_4_5")
    for row in rows.values():
        row["manager_cases"] = row["reached"]  # routed to a manager, then breaches
    for r in conn.execute(q["breaches"], params).mappings():
        rows[_as_date(r["day"])]["manager_cases"] += int(r["breaches"] or 0)
    for day, n, k in conn.execute(q["booking"], params):
        _bump(rows[_as_date(day)]["booking_days"], int(n), int(k))
    for day, m in conn.execute(q["minutes_to_resolve"], params):
        _bump(rows[_as_date(day)]["resolution"], max(int(m or 0), 0), 1)
    for day, m in conn.execute(q["minutes_to_respond"], params):
        _bump(rows[_as_date(day)]["first_response"], max(int(m or 0), 0), 1)
    for day, model, codes, overturned in conn.execute(q["overturned"], params):
        row = rows[_as_date(day)]
        if isinstance(codes, str | bytes):
            codes = orjson.loads(codes)
        keys = sorted(set(codes or [])) or ["(none)"]
        for code in keys:
            _bump(row["resolved_by_code"], code, 1)
        if overturned:
            _bump(row["overturned_by_model"], model, 1)
            for code in keys:
                _bump(row["overturned_by_code"], code, 1)
    return [rows[day] for day in sorted(rows)]


def _bump(histogram: dict[str, int], key: Any, n: int) -> None:
    histogram[str(key)] = histogram.get(str(key), 0) + n


def store_days(session: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    """Replace the stored rows (and histogram buckets) of these (center, day)s."""
    if not rows:
        return
    by_center: dict[int, list[date]] = defaultdict(list)
    for row in rows:
        by_center[row["center_id"]].append(row["day"])
    conn = session.connection()
    for center_id, days in by_center.items():
        for i in range(0, len(days), 500):
            for table in (CenterDayFigures, CenterDayBucket):
                conn.execute(
                    sa.delete(table).where(
                        table.center_id == center_id, table.day.in_(days[i : i + 500])
                    )
                )
    figures, buckets = [], []
    for row in rows:
        figures.append(
            {k: v for k, v in row.items() if k not in FIGURE_HISTOGRAMS} | {"computed_at": now}
        )
        buckets += [
            {
                "center_id": row["center_id"],
                "day": row["day"],
                "kind": kind,
                "key": key[:100],
                "n": n,
            }
            for kind in FIGURE_HISTOGRAMS
            for key, n in row[kind].items()
        ]
    for chunk in _chunks(figures, 1000):
        conn.execute(sa.insert(CenterDayFigures), chunk)
    for chunk in _chunks(buckets, 2000):
        conn.execute(sa.insert(CenterDayBucket), chunk)
    for center_id, days in by_center.items():
        _store_weeks(session, center_id, days)


def week_start(dialect: str, column: Any) -> Any:
    """The Monday of a date column's week, in SQL."""
    if dialect == "postgresql":
        return sa.cast(column - sa.cast(sa.func.extract("isodow", column), sa.Integer) + 1, sa.Date)
    weekday = sa.cast(sa.func.strftime("%w", column), sa.Integer)
    return sa.func.date(column, sa.literal("-") + sa.cast((weekday + 6) % 7, sa.String) + " days")


def _store_weeks(session: Session, center_id: int, days: Iterable[date]) -> None:
    """Replace the center's week buckets of the weeks holding ``days`` by the sums of
    their day buckets (one delete and one INSERT ... SELECT per run of weeks)."""
    b = CenterDayBucket.__table__
    w = cast(sa.Table, CenterWeekBucket.__table__)
    week = week_start(session.get_bind().dialect.name, b.c.day)
    conn = session.connection()
    mondays = sorted({day - timedelta(days=day.weekday()) for day in days})
    runs: list[list[date]] = []
    for monday in mondays:
        if runs and (monday - runs[-1][-1]).days == 7:
            runs[-1].append(monday)
        else:
            runs.append([monday])
    for run in runs:
        first, last = run[0], run[-1]
        conn.execute(sa.delete(w).where(w.c.center_id == center_id, w.c.week.between(first, last)))
        summed = (
            sa.select(b.c.center_id, week, b.c.kind, b.c.key, sa.func.sum(b.c.n))
            .where(
                b.c.center_id == center_id,
                b.c.day.between(first, last + timedelta(days=6)),
            )
            .group_by(b.c.center_id, week, b.c.kind, b.c.key)
        )
        conn.execute(sa.insert(w).from_select(["center_id", "week", "kind", "key", "n"], summed))


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Sorted days grouped into [first, last] runs with gaps under _RUN_GAP_DAYS."""
    ordered = sorted(set(days))
    if not ordered:
        return
    first = last = ordered[0]
    for day in ordered[1:]:
        if (day - last).days > _RUN_GAP_DAYS:
            yield first, last
            first = day
        last = day
    yield first, last


def recompute(session: Session, center: Center, days: Iterable[date], now: datetime) -> int:
    """Recompute and store the center's rows for ``days`` (in runs); the count written."""
    written = 0
    for first, last in _runs(days):
        rows = compute_days(session, center, first, last)
        store_days(session, rows, now)
        written += len(rows)
    return written


def fill_missing(session: Session, *, now: datetime, limit_centers: int = 50) -> int:
    """Write the rows of the days without any that a center should have: every local
    day from its first row (or its creation) up to yesterday, quiet days too (their
    business time counts for manager load). The number of rows written."""
    have = {
        cid: (first, n)
        for cid, first, n in session.execute(
            sa.select(
                CenterDayFigures.center_id,
                sa.func.min(CenterDayFigures.day),
                sa.func.count(),
            ).group_by(CenterDayFigures.center_id)
        )
    }
    written = 0
    todo = 0
    for center in session.scalars(sa.select(Center).order_by(Center.id)):
        zone = ZoneInfo(center.time_zone)
        yesterday = local_day(zone, now) - timedelta(days=1)
        created = local_day(zone, center.created_at)
        first, n = have.get(center.id, (created, 0))
        first = min(_as_date(first), created)
        if first > yesterday or n >= (yesterday - first).days + 1:
            continue
        stored = set(
            map(
                _as_date,
                session.scalars(
                    sa.select(CenterDayFigures.day).where(
                        CenterDayFigures.center_id == center.id,
                        CenterDayFigures.day.between(first, yesterday),
                    )
                ),
            )
        )
        missing = [d for d in _days(first, yesterday) if d not in stored]
        if missing:
            written += recompute(session, center, missing, now)
            todo += 1
            if todo >= limit_centers:
                break
    return written


def refresh_dirty(session: Session, *, now: datetime, batch: int = 5000) -> int:
    """Recompute the days named by up to ``batch`` dirty marks and delete those marks,
    then fill the days without rows (``fill_missing``); the number of marks handled.
    The caller commits."""
    marks = session.execute(
        sa.select(FigureDirtyMark.id, FigureDirtyMark.center_id, FigureDirtyMark.at)
        .order_by(FigureDirtyMark.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    if not marks:
        fill_missing(session, now=now)
        return 0
    # Workers that claimed marks of one center take turns on it (its rows are replaced).
    centers = {
        c.id: c
        for c in session.scalars(
            sa.select(Center)
            .where(Center.id.in_({m.center_id for m in marks}))
            .order_by(Center.id)
            .with_for_update()
        )
    }
    days: dict[int, set[date]] = defaultdict(set)
    for m in marks:
        center = centers.get(m.center_id)
        if center is not None:
            days[m.center_id].add(local_day(ZoneInfo(center.time_zone), m.at))
    for center_id, wanted in days.items():
        recompute(session, centers[center_id], wanted, now)
    ids = [m.id for m in marks]
    for i in range(0, len(ids), 1000):
        session.execute(sa.delete(FigureDirtyMark).where(FigureDirtyMark.id.in_(ids[i : i + 1000])))
    if len(marks) < batch:
        fill_missing(session, now=now)
    return len(marks)


def rebuild(
    session: Session, *, first: date, last: date, now: datetime, center_ids: list[int] | None = None
) -> int:
    """Recompute every day in [first, last] of the centers named (all when None): after
    a bulk load that wrote no marks (``direkte simulate``), or to repair. Rows written."""
    query = sa.select(Center).order_by(Center.id)
    if center_ids is not None:
        query = query.where(Center.id.in_(center_ids))
    written = 0
    for center in session.scalars(query).all():
        written += recompute(session, center, _days(first, last), now)
    return written


def first_recorded_day(session: Session) -> date | None:
    """The UTC date of the earliest check-in, request or case (None without any): a
    rebuild of everything starts the day before it, which covers every local day."""
    earliest = [
        session.scalar(sa.select(sa.func.min(column)))
        for column in (Visit.checked_in_at, EscalationRequest.created_at, Escalation.created_at)
    ]
    found = [at for at in earliest if at is not None]
    return min(found).astimezone(UTC).date() if found else None


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def merge_histograms(histograms: Iterable[dict[str, int]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for h in histograms:
        total.update(h)
    return total
