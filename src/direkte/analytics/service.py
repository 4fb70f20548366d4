"""The analytics use cases behind one import: the figures (``figures``, read from the
roll-ups the worker keeps in ``rollups``), the rollout (``rollout``), the evaluation
(``evaluation``) and the report (``report``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from direkte.analytics.evaluation import build_panel, evaluate_program
from direkte.analytics.figures import (
    FIGURE_NAMES,
    GROUP_BYS,
    MAX_WINDOW_DAYS,
    FiguresInvalid,
    check_window,
    read_figures,
    resolve_scope,
)
from direkte.analytics.rollout import (
    GateFailed,
    WaveDone,
    WaveNotFound,
    advance_wave,
    put_rollout,
    rollout_state,
)
from direkte.analytics.rollups import first_recorded_day, rebuild, refresh_dirty
from direkte.clock import Clock
from direkte.network.models import Program, User


def read_metrics(
    session: Session,
    clock: Clock,
    viewer: User | None,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    region: str | None = None,
    center: str | None = None,
    program: str | None = None,
    group_by: str | None = None,
) -> dict[str, Any]:
    """The §7 figures of a window of local days; ``viewer`` None is the trusted CLI.

    Raises FiguresInvalid (``to`` before ``from``, a window over two years, an unknown
    center or region), StaffOnly, FiguresOutOfScope.
    """
    first, last = check_window(date_from, date_to, today=clock.now().date())
    scope = resolve_scope(
        session,
        viewer,
        first=first,
        last=last,
        center=center,
        region=region,
        program=Program(program) if program else None,
    )
    return read_figures(session, scope, group_by=group_by)


__all__ = [
    "FIGURE_NAMES",
    "GROUP_BYS",
    "MAX_WINDOW_DAYS",
    "FiguresInvalid",
    "GateFailed",
    "WaveDone",
    "WaveNotFound",
    "advance_wave",
    "build_panel",
    "evaluate_program",
    "first_recorded_day",
    "put_rollout",
    "read_metrics",
    "rebuild",
    "refresh_dirty",
    "rollout_state",
]
