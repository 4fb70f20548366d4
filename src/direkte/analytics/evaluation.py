"""The evaluation of the program (DESIGN §6): the weekly per-center panel of a figure,
built from the daily roll-ups with each center's program state per week, handed to the
difference-in-differences estimator (``direkte.evaluation.did``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.analytics.figures import (
    FIGURE_NAMES,
    RATIOS,
    FiguresInvalid,
    ProgramHistory,
    check_window,
    week_of,
)
from direkte.analytics.models import CenterDayFigures, RolloutWave
from direkte.analytics.rollout import IN_PROGRAM, check_gate, program_totals
from direkte.analytics.rollups import FIGURE_COUNTS, week_start
from direkte.clock import Clock
from direkte.evaluation.did import evaluate
from direkte.evaluation.panel import Panel
from direkte.loop import in_worker_thread
from direkte.network.models import Center, User

# Figures where lower is better: the recommendation asks the interval to lie below zero.
LOWER_IS_BETTER = frozenset({"escalation_rate_per_100", "overturn_rate", "manager_load"})
DEFAULT_WEEKS = 52
SEED = 0
N_BOOT = 999


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def build_panel(session: Session, figure: str, first: date, last: date) -> Panel:
    """Each center's weekly ``figure`` (Monday weeks overlapping [first, last]) and
    whether it was in the program that week. A week in which the center changed state
    is left out (nan): it is neither before nor after."""
    ratio = RATIOS[figure]
    centers = list(session.scalars(sa.select(Center).order_by(Center.code)))
    history = ProgramHistory(session, centers)
    weeks = []
    week = week_of(first)
    while week <= last:
        weeks.append(week)
        week += timedelta(days=7)
    index = {w: i for i, w in enumerate(weeks)}
    row_of = {c.id: i for i, c in enumerate(centers)}
    t = CenterDayFigures.__table__
    monday_of = week_start(session.get_bind().dialect.name, t.c.day)
    business = sa.case((t.c.business_day, 1), else_=0)
    query = (
        sa.select(
            t.c.center_id,
            monday_of,
            sa.func.min(t.c.day),
            sa.func.max(t.c.day),
            sa.func.sum(business),
            sa.func.sum(business * t.c.managers),
            *(sa.func.sum(t.c[name]) for name in FIGURE_COUNTS),
        )
        .where(t.c.day.between(first, last))
        .group_by(t.c.center_id, monday_of)
    )
    totals: dict[tuple[int, int], dict[str, int]] = {}
    states: dict[tuple[int, int], set[bool]] = {}
    for row in session.execute(query).all():
        center_id, monday, day0, day1, business_days, manager_days, *counts = row
        if center_id not in row_of:
            continue
        key = (row_of[center_id], index[_as_date(monday)])
        bucket = {name: int(v or 0) for name, v in zip(FIGURE_COUNTS, counts, strict=True)}
        bucket["business_days"] = int(business_days or 0)
        bucket["manager_business_days"] = int(manager_days or 0)
        totals[key] = bucket
        # the center's states on the week's days with rows (every day from the first
        # to the last: the worker writes each day): the first day's, and any change
        day0, day1 = _as_date(day0), _as_date(day1)
        states[key] = {history.on(center_id, day0) in IN_PROGRAM} | {
            history.on(center_id, d) in IN_PROGRAM
            for d in history.change_days(center_id, day0 + timedelta(days=1), day1)
        }
    values = np.full((len(centers), len(weeks)), np.nan)
    treated = np.zeros((len(centers), len(weeks)), dtype=np.bool_)
    for key, bucket in totals.items():
        state = states[key]
        if len(state) != 1:
            continue  # the week it changed
        measured = ratio.of(bucket)
        if measured is not None:
            values[key] = measured
        treated[key] = next(iter(state))
    return Panel(
        centers=tuple(c.code for c in centers),
        weeks=tuple(weeks),
        values=values,
        treated=treated,
    )


def evaluate_program(
    session: Session,
    clock: Clock,
    viewer: User | None,
    *,
    figure: str,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """The program's effect on ``figure`` (difference in differences, 95% interval from a
    seeded center bootstrap) and the recommendation.

    Raises OpsOnly, FiguresInvalid (an unknown figure, a bad window).
    """
    if viewer is not None:
        access.require_ops(viewer)
    if figure not in RATIOS:
        raise FiguresInvalid(
            [{"field": "figure", "message": f"unknown figure; one of {', '.join(FIGURE_NAMES)}"}]
        )
    today = clock.now().date()
    if date_from is None and date_to is None:
        date_to = today - timedelta(days=1)
        date_from = date_to - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
    first, last = check_window(date_from, date_to, today=today)
    panel = build_panel(session, figure, first, last)
    # "no gate figure got worse beyond its limit": the gates of the waves, measured on
    # the program centers' last 28 days.
    conditions = {
        (c["figure"], c["op"], float(c["value"])): c
        for wave in session.scalars(sa.select(RolloutWave))
        for c in wave.gate
    }
    worse = sorted(
        {
            c["figure"]
            for c in check_gate(list(conditions.values()), program_totals(session, today))
            if not c["holds"] and c["measured"] is not None
        }
    )
    result = in_worker_thread(  # numpy, up to a second or more: off the event loop
        evaluate,
        panel,
        seed=SEED,
        n_boot=N_BOOT,
        higher_is_better=figure not in LOWER_IS_BETTER,
        worse_gates=worse,
    )
    return {
        "figure": figure,
        "method": result.method,
        "estimator": result.estimator,
        "estimate": result.estimate,
        "ci": list(result.ci) if result.ci is not None else None,
        "level": result.level,
        "treated_centers": result.treated_centers,
        "control_centers": result.control_centers,
        "weeks": result.weeks,
        "recommendation": result.recommendation,
        "reason": result.reason,
        # The reason as a key and its values, for the web app to word in the page's
        # language (not in the API's answer: EvaluationOut has no such field).
        "why": {"key": result.why.key, "values": result.why.values} if result.why else None,
        "from": first,
        "to": last,
        "pre_trend": [
            {"event_time": g.event_time, "gap": g.gap, "centers": g.centers}
            for g in result.pre_trend
        ],
        "post_trend": [
            {"event_time": g.event_time, "gap": g.gap, "centers": g.centers}
            for g in result.post_trend
        ],
    }
