"""Ops: backtests of a candidate guardrail policy over the recorded requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query

from direkte.analytics import backtest, service
from direkte.analytics.schemas import (
    AdvanceIn,
    AdvanceOut,
    EvaluationOut,
    MetricsOut,
    RolloutIn,
    RolloutOut,
)
from direkte.auth.deps import CurrentUser, authenticated_router, current_ops
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.errors import ERROR_RESPONSES, REFUSED
from direkte.policy.schemas import BacktestCreate, BacktestOut

router = authenticated_router(
    prefix="/policy",
    tags=["policy"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(current_ops)],
)


@router.post(
    "/backtest",
    responses={422: {"description": "An invalid policy (`invalid_policy`) or time range"}},
)
def backtest_policy(body: BacktestCreate, session: SessionDep) -> BacktestOut:
    """Run a candidate policy over the recorded requests, beside the current policy."""
    report = backtest.backtest_policy(
        session,
        document=body.policy,
        date_from=body.date_from,
        date_to=body.date_to,
        rescreen=body.rescreen,
    )
    return BacktestOut.model_validate(report)


# ---- figures and rollout (API.md "Ops") ----------------------------------------------

# Metrics: staff within their scope; rollout and evaluation: ops (refused with 403).
ops = authenticated_router(tags=["figures"], responses={**ERROR_RESPONSES, **REFUSED})


@ops.get(
    "/metrics",
    response_model=MetricsOut,
    responses={
        403: {"description": "Figures beyond the caller's center or region"},
        422: {"description": "`to` before `from`, a window over two years, an unknown place"},
    },
)
def get_metrics(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    region: Annotated[str | None, Query(max_length=32)] = None,
    center: Annotated[str | None, Query(max_length=32)] = None,
    program: Annotated[Literal["off", "pilot", "on"] | None, Query()] = None,
    group_by: Annotated[Literal["center", "region", "week"] | None, Query()] = None,
) -> dict[str, Any]:
    """The §7 figures over local days [from, to] (default: the last 28 days), read from
    the daily roll-ups; staff read their own center's or region's, ops any."""
    return service.read_metrics(
        session,
        clock,
        user,
        date_from=date_from,
        date_to=date_to,
        region=region,
        center=center,
        program=program,
        group_by=group_by,
    )


@ops.get("/rollout", response_model=RolloutOut)
def get_rollout(session: SessionDep, clock: ClockDep, user: CurrentUser) -> dict[str, Any]:
    """Centers' program states and the waves, each gate condition with its measured
    value on the program centers' last 28 days (ops)."""
    return service.rollout_state(session, clock, user)


@ops.put(
    "/rollout",
    response_model=RolloutOut,
    responses={422: {"description": "Unknown centers, waves or figures, a center in two waves"}},
)
def put_rollout(
    body: RolloutIn, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Set centers' program states and replace the planned waves (ops); audited."""
    state = service.put_rollout(session, clock, user, body=body.model_dump())
    session.commit()
    return state


@ops.post(
    "/rollout/waves/{wave_id}/advance",
    response_model=AdvanceOut,
    responses={
        404: {"description": "No such wave (`wave_not_found`)"},
        409: {"description": "`gate_failed` with every failing condition, or `wave_done`"},
        422: {"description": "An override without a reason"},
    },
)
def advance_wave(
    wave_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    body: AdvanceIn | None = None,
) -> dict[str, Any]:
    """Put the wave's centers into its program when every gate condition holds on the
    program centers' last 28 days; `{"force": true, "reason"}` overrides (ops); audited."""
    body = body or AdvanceIn()
    moved = service.advance_wave(
        session, clock, user, wave_id=wave_id, force=body.force, reason=body.reason
    )
    session.commit()
    return moved


@ops.get(
    "/rollout/evaluation",
    response_model=EvaluationOut,
    responses={422: {"description": "An unknown figure, `to` before `from`, a window too long"}},
)
def get_evaluation(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    figure: Annotated[str, Query(min_length=1, max_length=64)] = "same_day_resolution",
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Difference in differences of the weekly center figure between program centers
    and the others, a 95% interval from a seeded bootstrap over whole centers, the
    pre-period trends and the recommendation (ops)."""
    return service.evaluate_program(
        session, clock, user, figure=figure, date_from=date_from, date_to=date_to
    )
