"""The figures of DESIGN §7 over a window of local days, read from the daily roll-ups.

Every figure is a sum of per-day counts, a ratio of two such sums, or a percentile of
a summed histogram, so any window, filter and grouping is an addition over
``center_day_figures`` rows, never a rescan of visits (one figure excepted:
``access.vehicles_per_center``, a count of distinct vehicles, which does not add
across days and is read from the visits of the window).

A center's day belongs to the program state it was in at the end of that local day
(``center_program_changes``); the days before its first recorded change to the state
first recorded, and a center with no history to its current state.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.analytics.models import CenterDay, CenterDayFigures
from direkte.analytics.rollups import FIGURE_COUNTS, merge_histograms
from direkte.errors import RuleViolation
from direkte.network.models import Center, CenterProgramChange, Program, Region, User
from direkte.visits.models import Visit

# The longest window a figures read may span (a report or an evaluation of two years).
MAX_WINDOW_DAYS = 731
SAME_DAY_TARGET = 2 / 3
GROUP_BYS = ("center", "region", "week")


class FiguresInvalid(RuleViolation):
    """Bad figures input; ``details`` names each field."""

    code = "validation_error"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        super().__init__(summary, problems)


# ---- the figures that are ratios of summed counts: for gates and the evaluation -----


@dataclass(frozen=True)
class Ratio:
    numerator: Callable[[dict[str, int]], float]
    denominator: Callable[[dict[str, int]], float]
    scale: float = 1.0

    def of(self, totals: dict[str, int]) -> float | None:
        den = self.denominator(totals)
        return None if not den else self.scale * self.numerator(totals) / den


RATIOS: dict[str, Ratio] = {
    "same_day_resolution": Ratio(lambda t: t["same_day"], lambda t: t["visits_checked_in"]),
    "escalation_rate_per_100": Ratio(
        lambda t: t["requests"], lambda t: t["visits_checked_in"], 100.0
    ),
    "reach_rate": Ratio(lambda t: t["reached"], lambda t: t["requests"]),
    "overturn_rate": Ratio(lambda t: t["overturned"], lambda t: t["resolved"]),
    "sla_met_rate": Ratio(lambda t: t["sla_met"], lambda t: t["resolved"]),
    "satisfaction": Ratio(lambda t: t["rating_sum"], lambda t: t["ratings"]),
    "satisfaction_share_4_5": Ratio(lambda t: t["ratings_4_5"], lambda t: t["ratings"]),
    "manager_load": Ratio(lambda t: t["manager_cases"], lambda t: t["manager_business_days"]),
}
FIGURE_NAMES = tuple(RATIOS)


# ---- program state by day ---------------------------------------------------------------


class ProgramHistory:
    """Each center's program state on each local day."""

    def __init__(self, session: Session, centers: Sequence[Center]) -> None:
        ids = [c.id for c in centers]
        zones = {c.id: ZoneInfo(c.time_zone) for c in centers}
        self._current = {c.id: c.program for c in centers}
        changes: dict[int, list[tuple[date, Program]]] = defaultdict(list)
        if ids:
            for center_id, program, at in session.execute(
                sa.select(
                    CenterProgramChange.center_id,
                    CenterProgramChange.program,
                    CenterProgramChange.changed_at,
                )
                .where(CenterProgramChange.center_id.in_(ids))
                .order_by(CenterProgramChange.changed_at, CenterProgramChange.id)
            ):
                changes[center_id].append((at.astimezone(zones[center_id]).date(), program))
        self._days = {cid: [d for d, _ in rows] for cid, rows in changes.items()}
        self._programs = {cid: [p for _, p in rows] for cid, rows in changes.items()}

    def on(self, center_id: int, day: date) -> Program:
        days = self._days.get(center_id)
        if not days:
            return self._current[center_id]
        i = bisect.bisect_right(days, day) - 1  # the last change on or before the day
        return self._programs[center_id][max(i, 0)]

    def since(self, center_id: int) -> date | None:
        """The local day the center's current state began, if recorded."""
        days, programs = self._days.get(center_id), self._programs.get(center_id)
        if not days or not programs:
            return None
        i = len(programs) - 1
        while i > 0 and programs[i - 1] == programs[-1]:
            i -= 1
        return days[i]


# ---- the window and its scope --------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    first: date
    last: date
    centers: list[Center]
    regions: dict[int, Region]
    program: Program | None


def check_window(first: date | None, last: date | None, *, today: date) -> tuple[date, date]:
    """The window [from, to]; defaults: the 28 days up to yesterday. Raises
    FiguresInvalid naming ``to`` (before ``from``) or ``from`` (over the limit)."""
    last = last or today - timedelta(days=1)
    first = first or last - timedelta(days=27)
    if last < first:
        raise FiguresInvalid([{"field": "to", "message": "must not be before from"}])
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise FiguresInvalid(
            [{"field": "from", "message": f"the window is at most {MAX_WINDOW_DAYS} days"}]
        )
    return first, last


def resolve_scope(
    session: Session,
    viewer: User | None,
    *,
    first: date,
    last: date,
    center: str | None = None,
    region: str | None = None,
    program: Program | None = None,
) -> Scope:
    """The centers whose figures are read; ``viewer`` None is the trusted CLI.

    Raises FiguresInvalid (an unknown center or region), StaffOnly, FiguresOutOfScope.
    """
    problems = []
    center_row = region_row = None
    if center is not None:
        center_row = session.scalar(sa.select(Center).where(Center.code == center))
        if center_row is None:
            problems.append({"field": "center", "message": f"unknown center {center!r}"})
    if region is not None:
        region_row = session.scalar(sa.select(Region).where(Region.code == region))
        if region_row is None:
            problems.append({"field": "region", "message": f"unknown region {region!r}"})
    if problems:
        raise FiguresInvalid(problems)
    center_id = center_row.id if center_row else None
    region_id = region_row.id if region_row else None
    if viewer is not None:
        center_id, region_id = access.figures_scope(viewer, center=center_row, region_id=region_id)
    query = sa.select(Center).order_by(Center.code)
    if center_id is not None:
        query = query.where(Center.id == center_id)
    if region_id is not None:
        query = query.where(Center.region_id == region_id)
    centers = list(session.scalars(query))
    regions = {r.id: r for r in session.scalars(sa.select(Region))}
    return Scope(first, last, centers, regions, program)


# ---- reading and adding up ------------------------------------------------------------


@dataclass
class DayRow:
    center_id: int
    day: date
    program: Program
    values: dict[str, Any]


def read_rows(session: Session, scope: Scope) -> list[DayRow]:
    """The stored day rows of the scope's centers in the window, with each day's
    program state, filtered to the scope's program."""
    if not scope.centers:
        return []
    history = ProgramHistory(session, scope.centers)
    ids = [c.id for c in scope.centers]
    table = CenterDayFigures.__table__
    query = sa.select(table).where(table.c.day.between(scope.first, scope.last))
    if len(ids) < 500:
        query = query.where(table.c.center_id.in_(ids))
    wanted = set(ids)
    out = []
    for r in session.execute(query).mappings():
        if r["center_id"] not in wanted:
            continue
        program = history.on(r["center_id"], r["day"])
        if scope.program is not None and program != scope.program:
            continue
        out.append(DayRow(r["center_id"], r["day"], program, dict(r)))
    return out


def totals_of(rows: Iterable[DayRow]) -> dict[str, int]:
    totals: dict[str, int] = dict.fromkeys(FIGURE_COUNTS, 0)
    totals["manager_business_days"] = 0
    totals["business_days"] = 0
    for row in rows:
        v = row.values
        for name in FIGURE_COUNTS:
            totals[name] += v[name]
        if v["business_day"]:
            totals["business_days"] += 1
            totals["manager_business_days"] += v["managers"]
    return totals


def percentile(histogram: Counter[str], q: float) -> int | None:
    """The nearest-rank ``q`` percentile of a histogram of whole numbers."""
    n = sum(histogram.values())
    if n == 0:
        return None
    rank = max(1, -(-int(q * n * 1000) // 1000))  # ceil(q * n), without float drift
    seen = 0
    for key in sorted(histogram, key=int):
        seen += histogram[key]
        if seen >= rank:
            return int(key)
    return None  # pragma: no cover


def _rate(num: float, den: float) -> float | None:
    return None if not den else num / den


def _top(counter: Counter[str], limit: int = 20) -> list[dict[str, Any]]:
    return [
        {"key": k, "count": n}
        for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    ]


def figures_of(
    rows: list[DayRow],
    *,
    first: date,
    last: date,
    centers: Sequence[Center],
    vehicles: int,
) -> dict[str, Any]:
    """The §7 figures of these day rows (API.md's shape, plus manager load and root
    causes); ``vehicles`` the distinct (center, vehicle) pairs checked in."""
    t = totals_of(rows)
    visits = t["visits_checked_in"]
    hist = {
        name: merge_histograms(r.values[name] for r in rows)
        for name in (
            "booking_days",
            "first_response",
            "resolution",
            "overturned_by_code",
            "overturned_by_model",
            "resolved_by_code",
        )
    }
    by_center: Counter[str] = Counter()
    codes = {c.id: c.code for c in centers}
    for r in rows:
        if r.values["overturned"]:
            by_center[codes[r.center_id]] += r.values["overturned"]
    counted_centers = {r.center_id for r in rows}
    per_100 = RATIOS["escalation_rate_per_100"]
    return {
        "from": first,
        "to": last,
        "centers": len(counted_centers),
        "visits_checked_in": visits,
        "same_day_resolution": {
            "count": t["same_day"],
            "of": visits,
            "rate": _rate(t["same_day"], visits),
            "target": SAME_DAY_TARGET,
        },
        "requests": {
            "total": t["requests"],
            "by_category": {
                "diagnosis": t["req_diagnosis"],
                "warranty": t["req_warranty"],
                "estimate": t["req_estimate"],
            },
            "by_decision": {
                "route": t["dec_route"],
                "reject": t["dec_reject"],
                "moderate": t["dec_moderate"],
            },
            "reached_managers": t["reached"],
        },
        "escalation_rate_per_100": per_100.of(t),
        "escalation_rate_per_100_by_category": {
            c: _rate(100 * t[f"req_{c}"], visits) for c in ("diagnosis", "warranty", "estimate")
        },
        "escalation_rate_per_100_by_decision": {
            d: _rate(100 * t[f"dec_{d}"], visits) for d in ("route", "reject", "moderate")
        },
        "reach_rate": RATIOS["reach_rate"].of(t),
        "resolved": t["resolved"],
        "overturned": t["overturned"],
        "overturn_rate": RATIOS["overturn_rate"].of(t),
        "first_response_business_minutes": {
            "count": sum(hist["first_response"].values()),
            "p50": percentile(hist["first_response"], 0.5),
            "p90": percentile(hist["first_response"], 0.9),
        },
        "resolution_business_minutes": {
            "count": sum(hist["resolution"].values()),
            "p50": percentile(hist["resolution"], 0.5),
            "p90": percentile(hist["resolution"], 0.9),
        },
        "sla_met_rate": RATIOS["sla_met_rate"].of(t),
        "satisfaction": {
            "count": t["ratings"],
            "mean": RATIOS["satisfaction"].of(t),
            "share_4_5": RATIOS["satisfaction_share_4_5"].of(t),
        },
        "access": {
            "booking_to_appointment_days_p50": percentile(hist["booking_days"], 0.5),
            "vehicles_per_center": _rate(vehicles, len(counted_centers)),
        },
        "manager_load": {
            "cases": t["manager_cases"],
            "manager_business_days": t["manager_business_days"],
            "per_manager_per_business_day": RATIOS["manager_load"].of(t),
        },
        "root_causes": {
            "overturned": t["overturned"],
            "by_diagnosis_code": [
                {
                    **entry,
                    "resolved": hist["resolved_by_code"][entry["key"]],
                    "rate": _rate(entry["count"], hist["resolved_by_code"][entry["key"]]),
                }
                for entry in _top(hist["overturned_by_code"])
            ],
            "by_model": _top(hist["overturned_by_model"]),
            "by_center": _top(by_center),
        },
    }


def distinct_vehicles(
    session: Session, center_ids: Sequence[int], first: date, last: date
) -> dict[int, int]:
    """Distinct vehicles checked in per center over the local days [first, last]."""
    if not center_ids:
        return {}
    cd = CenterDay
    bounds = (
        sa.select(
            cd.center_id,
            sa.func.min(cd.starts_at).label("starts"),
            sa.func.max(cd.ends_at).label("ends"),
        )
        .where(cd.center_id.in_(center_ids), cd.day.between(first, last))
        .group_by(cd.center_id)
        .subquery()
    )
    query = (
        sa.select(Visit.center_id, sa.func.count(sa.distinct(Visit.vehicle_id)))
        .join(bounds, bounds.c.center_id == Visit.center_id)
        .where(Visit.checked_in_at >= bounds.c.starts, Visit.checked_in_at < bounds.c.ends)
        .group_by(Visit.center_id)
    )
    return {cid: n for cid, n in session.execute(query)}  # noqa: C416


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def read_figures(session: Session, scope: Scope, *, group_by: str | None = None) -> dict[str, Any]:
    """The figures of the scope, with ``groups`` by center, region or week."""
    rows = read_rows(session, scope)
    ids = [c.id for c in scope.centers]
    vehicles = distinct_vehicles(session, ids, scope.first, scope.last)
    out = figures_of(
        rows,
        first=scope.first,
        last=scope.last,
        centers=scope.centers,
        vehicles=sum(vehicles.get(c, 0) for c in {r.center_id for r in rows}),
    )
    out["program"] = scope.program.value if scope.program else None
    out["groups"] = _groups(session, scope, rows, vehicles, group_by) if group_by else []
    return out


def _groups(
    session: Session,
    scope: Scope,
    rows: list[DayRow],
    vehicles: dict[int, int],
    group_by: str,
) -> list[dict[str, Any]]:
    centers = {c.id: c for c in scope.centers}
    buckets: dict[Any, list[DayRow]] = defaultdict(list)
    if group_by == "center":
        for c in scope.centers:
            buckets[c.code] = []
        for r in rows:
            buckets[centers[r.center_id].code].append(r)
    elif group_by == "region":
        for c in scope.centers:
            buckets[scope.regions[c.region_id].code] = []
        for r in rows:
            buckets[scope.regions[centers[r.center_id].region_id].code].append(r)
    else:
        for r in rows:
            buckets[week_of(r.day)].append(r)
    out = []
    for key in sorted(buckets):
        group_rows = buckets[key]
        if group_by == "week":
            first, last = max(key, scope.first), min(key + timedelta(days=6), scope.last)
            in_group = sorted({r.center_id for r in group_rows})
            week_vehicles = distinct_vehicles(session, in_group, first, last)
            n_vehicles = sum(week_vehicles.values())
        else:
            first, last = scope.first, scope.last
            n_vehicles = sum(vehicles.get(c, 0) for c in {r.center_id for r in group_rows})
        figures = figures_of(
            group_rows, first=first, last=last, centers=scope.centers, vehicles=n_vehicles
        )
        key_text = key.isoformat() if isinstance(key, date) else key
        out.append({"group_by": group_by, "key": key_text, **figures})
    return out
