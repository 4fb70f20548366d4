"""Ops: backtests of a candidate guardrail policy over the recorded requests."""

from __future__ import annotations

from fastapi import Depends

from direkte.analytics import backtest
from direkte.auth.deps import authenticated_router, current_ops
from direkte.kit.deps import SessionDep
from direkte.kit.errors import ERROR_RESPONSES
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
