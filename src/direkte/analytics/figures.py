"""The figures of DESIGN §7 over a window of local days, read from the daily roll-ups.

Every figure is a sum of per-day counts, a ratio of two such sums, or a percentile of
a summed histogram, so any window, filter and grouping is an addition over
``center_day_figures`` rows, never a rescan of visits (``access.vehicles_per_center`` counts
the vehicles each center has served up to the window's end: the sum of its days'
first check-ins of a vehicle there).

A center's day belongs to the program state it was in at the end of that local day
(``center_program_changes``); the days before its first recorded change to the state
first recorded, and a center with no history to its current state.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.analytics.models import CenterDayBucket, CenterDayFigures, CenterWeekBucket
from direkte.analytics.rollups import FIGURE_COUNTS, FIGURE_HISTOGRAMS, week_start
from direkte.errors import RuleViolation
from direkte.network.models import Center, CenterProgramChange, Program, Region, User

# The longest window a figures read may span (a report or an evaluation of two years).
MAX_WINDOW_DAYS = 731
SAME_DAY_TARGET = 2 / 3
GROUP_BYS = ("center", "region", "week")
HISTOGRAMS = FIGURE_HISTOGRAMS


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

    def change_days(self, center_id: int, first: date, last: date) -> list[date]:
        """The local days within [first, last] on which the center's state changed."""
        return [d for d in self._days.get(center_id, []) if first <= d <= last]

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
    """Summed day figures of one center over the days of one Monday-week (``day``) that
    are in the window and the scope's program states."""

    center_id: int
    day: date
    values: dict[str, Any]


def _segments(
    history: ProgramHistory, center_id: int, first: date, last: date
) -> list[tuple[date, date, Program]]:
    """The center's [from, to] runs of one program state within [first, last]."""
    out: list[tuple[date, date, Program]] = []
    start, state = first, history.on(center_id, first)
    for change in history.change_days(center_id, first, last):
        new_state = history.on(center_id, change)
        if change > first and new_state != state:
            out.append((start, change - timedelta(days=1), state))
            start, state = change, new_state
    out.append((start, last, state))
    return out


def read_rows(
    session: Session, scope: Scope, *, programs: frozenset[Program] | None = None
) -> list[DayRow]:
    return _read(session, scope, programs=programs, hist_by=None)[0]


Histograms = dict[Any, dict[str, Counter[str]]]


def _read(
    session: Session,
    scope: Scope,
    *,
    programs: frozenset[Program] | None = None,
    hist_by: str | None = None,
) -> tuple[list[DayRow], Histograms]:
    """The rows (summed per center and week) and, when ``hist_by`` is given, the
    histograms summed per group: ``all`` (key None), ``center`` (id), ``region`` (id)
    or ``week`` (its Monday)."""
    """The scope's day figures summed per center and week in SQL, on the days the center
    was in the scope's program (or one of ``programs``)."""
    if not scope.centers:
        return [], {}
    wanted = programs or (frozenset({scope.program}) if scope.program is not None else None)
    t = CenterDayFigures.__table__
    b = CenterDayBucket.__table__
    ids: list[int] | None = None
    spans: list[tuple[int, date, date]] | None = None
    if wanted is None:
        if len(scope.centers) < (
            session.scalar(sa.select(sa.func.count()).select_from(Center)) or 0
        ):
            ids = [c.id for c in scope.centers]
    else:
        history = ProgramHistory(session, scope.centers)
        spans = [
            (c.id, a, z)
            for c in scope.centers
            for a, z, state in _segments(history, c.id, scope.first, scope.last)
            if state in wanted
        ]
        if not spans:
            return [], {}

    def where_on(table: Any) -> list[Any]:
        out: list[Any] = [table.c.day.between(scope.first, scope.last)]
        if ids is not None:
            out.append(table.c.center_id.in_(ids))
        if spans is not None:
            out.append(
                sa.or_(
                    *(
                        sa.and_(table.c.center_id == cid, table.c.day.between(a, z))
                        for cid, a, z in spans
                    )
                )
            )
        return out

    where = where_on(t)
    dialect = session.get_bind().dialect.name
    week = week_start(dialect, t.c.day).label("week")
    business = sa.case((t.c.business_day, 1), else_=0)
    counts = (
        sa.select(
            t.c.center_id,
            week,
            *(sa.func.sum(t.c[name]).label(name) for name in FIGURE_COUNTS),
            sa.func.sum(business).label("business_days"),
            sa.func.sum(business * t.c.managers).label("manager_business_days"),
        )
        .where(*where)
        .group_by(t.c.center_id, week)
    )
    rows: dict[tuple[int, date], DayRow] = {}
    for r in session.execute(counts).mappings():
        day = _to_date(r["week"])
        values: dict[str, Any] = {k: int(r[k] or 0) for k in (*FIGURE_COUNTS, "business_days")}
        values["manager_business_days"] = int(r["manager_business_days"] or 0)
        values |= {name: {} for name in HISTOGRAMS}
        rows[r["center_id"], day] = DayRow(r["center_id"], day, values)
    histograms: Histograms = defaultdict(lambda: defaultdict(Counter))
    if hist_by is not None:
        if dialect == "postgresql":
            # A quarter of 200 centers grouped by center sums ~400,000 bucket rows into
            # ~60,000: with the default 4 MB the hash spills to disk. For this read only.
            session.execute(sa.text("SET LOCAL work_mem = '32MB'"))
        summed = _bucket_rows(b, CenterWeekBucket.__table__, dialect, scope, ids, spans)
        keys: list[Any] = []
        if hist_by == "center":
            keys = [summed.c.center_id]
        elif hist_by == "week":
            keys = [summed.c.week]
        elif hist_by == "region":
            keys = [Center.region_id]
        query = sa.select(*keys, summed.c.kind, summed.c.key, sa.func.sum(summed.c.n))
        if hist_by == "region":
            query = query.join(Center, Center.id == summed.c.center_id)
        query = query.group_by(*keys, summed.c.kind, summed.c.key)
        for row in session.execute(query).all():
            *group, kind, key, n = row
            group_key = (_to_date(group[0]) if hist_by == "week" else group[0]) if group else None
            histograms[group_key][kind][str(key)] += int(n)
    return list(rows.values()), histograms


def _whole_weeks(first: date, last: date) -> tuple[date, date] | None:
    """The first and the last Monday of the whole Monday-weeks within [first, last]."""
    monday = first + timedelta(days=-first.weekday() % 7)
    last_monday = week_of(last + timedelta(days=1)) - timedelta(days=7)
    return (monday, last_monday) if monday <= last_monday else None


def _bucket_rows(
    days: Any,
    weeks: Any,
    dialect: str,
    scope: Scope,
    ids: list[int] | None,
    spans: list[tuple[int, date, date]] | None,
) -> Any:
    """The histogram buckets of the scope as (center_id, week, kind, key, n): the whole
    weeks of each range from the week buckets, the days at its edges from the day
    buckets."""
    ranges = (
        [(None, scope.first, scope.last)] if spans is None else [(cid, a, z) for cid, a, z in spans]
    )
    day_parts: list[Any] = []
    week_parts: list[Any] = []
    for cid, a, z in ranges:
        whole = _whole_weeks(a, z)
        edges = (
            [(a, z)]
            if whole is None
            else [(a, whole[0] - timedelta(days=1)), (whole[1] + timedelta(days=7), z)]
        )
        for lo, hi in edges:
            if lo <= hi:
                cond = days.c.day.between(lo, hi)
                day_parts.append(cond if cid is None else sa.and_(days.c.center_id == cid, cond))
        if whole is not None:
            cond = weeks.c.week.between(*whole)
            week_parts.append(cond if cid is None else sa.and_(weeks.c.center_id == cid, cond))
    selects: list[Any] = []
    for table, parts, week in (
        (days, day_parts, week_start(dialect, days.c.day)),
        (weeks, week_parts, weeks.c.week),
    ):
        if not parts:
            continue
        where = [sa.or_(*parts)]
        if ids is not None:
            where.append(table.c.center_id.in_(ids))
        selects.append(
            sa.select(
                table.c.center_id, week.label("week"), table.c.kind, table.c.key, table.c.n
            ).where(*where)
        )
    if len(selects) == 1:
        return selects[0].subquery("buckets")
    return sa.union_all(*selects).subquery("buckets")


def _to_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def totals_of(rows: Iterable[DayRow]) -> dict[str, int]:
    keys = (*FIGURE_COUNTS, "business_days", "manager_business_days")
    totals: dict[str, int] = dict.fromkeys(keys, 0)
    for row in rows:
        for name in keys:
            totals[name] += row.values[name]
    return totals


def percentile(histogram: Counter[str], q: float) -> int | None:
    """The nearest-rank ``q`` percentile of a histogram of whole numbers."""
    return percentiles(histogram, q)[0]


def percentiles(histogram: Counter[str], *qs: float) -> list[int | None]:
    """The nearest-rank percentiles ``qs`` (ascending) of a histogram of whole numbers,
    from one pass over its sorted keys."""
    n = sum(histogram.values())
    if n == 0:
        return [None] * len(qs)
    ranks = [max(1, -(-int(q * n * 1000) // 1000)) for q in qs]  # ceil(q * n), no float drift
    out: list[int | None] = []
    seen = 0
    for key in sorted(histogram, key=int):
        seen += histogram[key]
        while len(out) < len(ranks) and seen >= ranks[len(out)]:
            out.append(int(key))
        if len(out) == len(ranks):
            break
    return out + [None] * (len(ranks) - len(out))


def _rate(num: float, den: float) -> float | None:
    return None if not den else num / den


def _top(counter: Counter[str], limit: int = 20) -> list[dict[str, Any]]:
    return [
        {"key": k, "count": n}
        for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    ]


def _minutes(histogram: Counter[str]) -> dict[str, int | None]:
    p50, p90 = percentiles(histogram, 0.5, 0.9)
    return {"count": sum(histogram.values()), "p50": p50, "p90": p90}


def figures_of(
    rows: list[DayRow],
    *,
    first: date,
    last: date,
    codes: Mapping[int, str],
    vehicles: int,
    histograms: dict[str, Counter[str]],
) -> dict[str, Any]:
    """The §7 figures of these day rows (API.md's shape, plus manager load and root
    causes); ``codes`` the centers' codes by id, ``vehicles`` the distinct (center,
    vehicle) pairs checked in."""
    t = totals_of(rows)
    visits = t["visits_checked_in"]
    hist = {name: histograms.get(name, Counter()) for name in HISTOGRAMS}
    by_center: Counter[str] = Counter()
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
        "first_response_business_minutes": _minutes(hist["first_response"]),
        "resolution_business_minutes": _minutes(hist["resolution"]),
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
    """Vehicles each center has served up to ``last``: the sum of the day rows'
    ``new_vehicles`` (a vehicle's first check-in at the center), so no visit is read.
    ``first`` is unused: the count is of the center's fleet, not of the window."""
    del first
    if not center_ids:
        return {}
    t = CenterDayFigures
    query = (
        sa.select(t.center_id, sa.func.sum(t.new_vehicles))
        .where(t.day <= last, t.center_id.in_(center_ids))
        .group_by(t.center_id)
    )
    return {cid: int(n or 0) for cid, n in session.execute(query)}


def fleet_by_week(
    session: Session, center_ids: Sequence[int], first: date, last: date
) -> dict[tuple[int, date], int]:
    """``distinct_vehicles`` at the end of each Monday-week of [first, last] (or at
    ``last`` in the final one), per center: the fleet before ``first`` and the window's
    ``new_vehicles`` per week, added up week by week; two statements for any number of
    weeks."""
    if not center_ids:
        return {}
    before = distinct_vehicles(session, center_ids, first, first - timedelta(days=1))
    t = CenterDayFigures.__table__
    week = week_start(session.get_bind().dialect.name, t.c.day).label("week")
    query = (
        sa.select(t.c.center_id, week, sa.func.sum(t.c.new_vehicles))
        .where(t.c.day.between(first, last), t.c.center_id.in_(center_ids))
        .group_by(t.c.center_id, week)
    )
    added: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for center_id, monday, n in session.execute(query):
        added[center_id].append((_to_date(monday), int(n or 0)))
    out: dict[tuple[int, date], int] = {}
    for center_id in center_ids:
        fleet = before.get(center_id, 0)
        for monday, n in sorted(added[center_id]):
            fleet += n
            out[center_id, monday] = fleet
    return out


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _merged(parts: Iterable[dict[str, Counter[str]]]) -> dict[str, Counter[str]]:
    total: dict[str, Counter[str]] = defaultdict(Counter)
    for part in parts:
        for kind, counter in part.items():
            total[kind].update(counter)
    return total


def read_figures(session: Session, scope: Scope, *, group_by: str | None = None) -> dict[str, Any]:
    """The figures of the scope, with ``groups`` by center, region or week."""
    rows, histograms = _read(session, scope, hist_by=group_by or "all")
    ids = [c.id for c in scope.centers]
    vehicles = distinct_vehicles(session, ids, scope.first, scope.last)
    out = figures_of(
        rows,
        first=scope.first,
        last=scope.last,
        codes={c.id: c.code for c in scope.centers},
        vehicles=sum(vehicles.get(c, 0) for c in {r.center_id for r in rows}),
        histograms=_merged(histograms.values()),
    )
    out["program"] = scope.program.value if scope.program else None
    out["groups"] = (
        _groups(session, scope, rows, vehicles, histograms, group_by) if group_by else []
    )
    return out


def _groups(
    session: Session,
    scope: Scope,
    rows: list[DayRow],
    vehicles: dict[int, int],
    histograms: Histograms,
    group_by: str,
) -> list[dict[str, Any]]:
    centers = {c.id: c for c in scope.centers}
    codes = {c.id: c.code for c in scope.centers}
    fleets: dict[tuple[int, date], int] = {}
    if group_by == "week":
        fleets = fleet_by_week(session, list(centers), scope.first, scope.last)
    buckets: dict[Any, list[DayRow]] = defaultdict(list)
    hist_of: dict[Any, Any] = {}
    if group_by == "center":
        for c in scope.centers:
            buckets[c.code] = []
            hist_of[c.code] = c.id
        for r in rows:
            buckets[centers[r.center_id].code].append(r)
    elif group_by == "region":
        for c in scope.centers:
            buckets[scope.regions[c.region_id].code] = []
            hist_of[scope.regions[c.region_id].code] = c.region_id
        for r in rows:
            buckets[scope.regions[centers[r.center_id].region_id].code].append(r)
    else:
        for r in rows:
            buckets[r.day].append(r)
            hist_of[r.day] = r.day
    out = []
    for key in sorted(buckets):
        group_rows = buckets[key]
        if group_by == "week":
            first, last = max(key, scope.first), min(key + timedelta(days=6), scope.last)
            in_group = {r.center_id for r in group_rows}
            n_vehicles = sum(fleets.get((c, key), 0) for c in in_group)
        else:
            first, last = scope.first, scope.last
            n_vehicles = sum(vehicles.get(c, 0) for c in {r.center_id for r in group_rows})
        figures = figures_of(
            group_rows,
            first=first,
            last=last,
            codes=codes,
            vehicles=n_vehicles,
            histograms=histograms.get(hist_of.get(key), {}),
        )
        key_text = key.isoformat() if isinstance(key, date) else key
        out.append({"group_by": group_by, "key": key_text, **figures})
    return out
