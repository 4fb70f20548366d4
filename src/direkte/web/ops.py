"""The ops pages: moderation, the guardrail policy with its editor and backtests, the
rollout and the figures (``/app/ops/...``).

Each calls the use case its API route calls: moderation ``escalations.service``, the
policy ``policy.service`` and the backtest ``analytics.backtest``; the policy editor
checks a candidate with the same validation ``PUT /policy`` applies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from direkte import access
from direkte.analytics import backtest
from direkte.audit.service import Actor
from direkte.auth.deps import SessionUser
from direkte.errors import Conflict, DomainError
from direkte.escalations import service as escalations
from direkte.escalations.schemas import RejectIn, escalation_out
from direkte.fields import MAX_ROW_ID
from direkte.guardrails.policy import validate_document
from direkte.kit.deps import ClockDep, SessionDep
from direkte.network.models import User
from direkte.policy import service as policy
from direkte.web.charts import backtest_chart
from direkte.web.rendering import render
from direkte.web.routing import page_router

router = page_router()
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
HELD_PAGE = 50
VERSIONS_SHOWN = 20
BACKTEST_DAYS = 90
Document = Annotated[str, Form(max_length=200_000)]


@router.get("/app/ops/moderation")
def moderation_page(
    request: Request, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """Requests the guardrails held, oldest first (``GET /moderation/held``)."""
    return _moderation(request, session, clock, user)


def _moderation(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: User,
    *,
    errors: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    cases = escalations.list_held(session, viewer=user, limit=HELD_PAGE, offset=0)
    now = clock.now()
    held = [escalation_out(case, now=now, viewer=user) for case in cases]
    return render(
        request,
        "ops_moderation.html",
        {"held": held, "errors": errors or {}},
        user=user,
        status_code=status_code,
    )


@router.post("/app/ops/moderation/{case_id}/release")
def release_page(
    request: Request, case_id: RowId, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """Release a held request to the tier its decision named (``POST .../approve``)."""
    try:
        escalations.approve_held(session, clock, viewer=user, escalation_id=case_id)
    except Conflict as conflict:
        session.rollback()
        return _moderation(
            request, session, clock, user, errors={case_id: conflict.message}, status_code=409
        )
    session.commit()
    return RedirectResponse("/app/ops/moderation?done=released", status_code=303)


@router.post("/app/ops/moderation/{case_id}/reject")
def reject_page(
    request: Request,
    case_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    reason: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Turn a held request down with a reason the customer reads (``POST .../reject``)."""
    try:
        data = RejectIn(reason=reason)
        escalations.reject_held(
            session, clock, viewer=user, escalation_id=case_id, reason=data.reason
        )
    except ValidationError:
        session.rollback()
        return _moderation(
            request,
            session,
            clock,
            user,
            errors={case_id: "reason"},
            status_code=422,
        )
    except Conflict as conflict:
        session.rollback()
        return _moderation(
            request, session, clock, user, errors={case_id: conflict.message}, status_code=409
        )
    session.commit()
    return RedirectResponse("/app/ops/moderation?done=rejected", status_code=303)


def _policy_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: User,
    *,
    candidate: str | None = None,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    access.require_ops(user)
    current = policy.current_policy(session)
    versions = policy.list_versions(session, limit=VERSIONS_SHOWN, before=None)
    today = clock.now().date()
    data = {
        "current": current,
        "current_text": json.dumps(current.document, indent=2, ensure_ascii=False),
        "candidate": candidate
        if candidate is not None
        else json.dumps(current.document, indent=2, ensure_ascii=False),
        "versions": versions,
        "date_from": (today - timedelta(days=BACKTEST_DAYS)).isoformat(),
        "date_to": today.isoformat(),
        "problems": None,
        "report": None,
        "chart": None,
        **(extra or {}),
    }
    return render(request, "ops_policy.html", data, user=user, status_code=status_code)


@router.get("/app/ops/policy")
def policy_page(
    request: Request, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """The current policy, its versions, and the editor for a candidate."""
    return _policy_page(request, session, clock, user)


def _parse(candidate: str) -> tuple[Any, list[dict[str, str]]]:
    """The candidate's JSON, or the problem that it is not JSON."""
    try:
        return json.loads(candidate), []
    except json.JSONDecodeError as exc:
        return None, [{"field": "document", "message": f"not JSON: {exc.msg} (line {exc.lineno})"}]


@router.post("/app/ops/policy/check")
def check_policy_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    document: Document = "",
) -> Response:
    """Check a candidate against the policy's schema (what ``PUT /policy`` checks)."""
    access.require_ops(user)
    raw, problems = _parse(document)
    if not problems:
        _, problems = validate_document(raw)
    return _policy_page(
        request,
        session,
        clock,
        user,
        candidate=document,
        extra={"problems": problems},
        status_code=422 if problems else 200,
    )


def _day(value: str, field: str) -> datetime:
    try:
        return datetime.combine(datetime.fromisoformat(value).date(), time(0), tzinfo=UTC)
    except ValueError:
        raise _BadDate(field) from None


class _BadDate(Exception):
    pass


@router.post("/app/ops/policy/backtest")
def backtest_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    document: Document = "",
    date_from: Annotated[str, Form(max_length=32)] = "",
    date_to: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Backtest the candidate against the current policy (``POST /policy/backtest``)."""
    access.require_ops(user)
    dates = {"date_from": date_from, "date_to": date_to}
    raw, problems = _parse(document)
    if problems:
        return _policy_page(
            request,
            session,
            clock,
            user,
            candidate=document,
            extra={"problems": problems, **dates},
            status_code=422,
        )
    try:
        start, end = _day(date_from, "from"), _day(date_to, "to") + timedelta(days=1)
        report = backtest.backtest_policy(session, document=raw, date_from=start, date_to=end)
    except _BadDate as bad:
        problems = [{"field": str(bad), "message": "a date as YYYY-MM-DD"}]
    except DomainError as refused:
        if refused.status != 422:
            raise
        details = refused.details if isinstance(refused.details, list) else []
        problems = details or [{"field": "", "message": refused.message}]
    if problems:
        return _policy_page(
            request,
            session,
            clock,
            user,
            candidate=document,
            extra={"problems": problems, **dates},
            status_code=422,
        )
    return _policy_page(
        request,
        session,
        clock,
        user,
        candidate=document,
        extra={"report": report, "chart": backtest_chart(report), **dates},
    )


@router.post("/app/ops/policy/publish")
def publish_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    document: Document = "",
    version: Annotated[int, Form(ge=0)] = 0,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Publish the candidate as a new version (``PUT /policy``); a stale version is shown,
    never overwritten."""
    access.require_ops(user)
    raw, problems = _parse(document)
    if not problems:
        try:
            policy.publish_policy(
                session,
                clock,
                actor=Actor("user", user.id, user.email),
                document=raw,
                expected_version=version,
                note=note.strip() or None,
            )
        except Conflict:
            session.rollback()
            return _policy_page(
                request,
                session,
                clock,
                user,
                candidate=document,
                extra={"stale": True},
                status_code=409,
            )
        except DomainError as refused:
            if refused.status != 422:
                raise
            session.rollback()
            problems = refused.details if isinstance(refused.details, list) else []
    if problems:
        return _policy_page(
            request,
            session,
            clock,
            user,
            candidate=document,
            extra={"problems": problems},
            status_code=422,
        )
    session.commit()
    return RedirectResponse("/app/ops/policy?done=published", status_code=303)


def _api_has(request: Request, path: str) -> bool:
    """Whether this app serves an API path (the figures and rollout use cases are
    another issue's; their pages say so until the API has them)."""
    return any(getattr(route, "path", None) == path for route in request.app.routes) or any(
        getattr(r, "path", None) == path
        for route in request.app.routes
        for r in getattr(getattr(route, "original_router", None), "routes", [])
    )


@router.get("/app/ops/rollout")
def rollout_page(request: Request, user: SessionUser) -> Response:
    """The program's rollout: what the API has of it."""
    access.require_ops(user)
    available = _api_has(request, "/api/v1/rollout")
    return render(
        request,
        "ops_pending.html",
        {"kind": "rollout", "available": available, "api_path": "/api/v1/rollout"},
        user=user,
    )


@router.get("/app/ops/figures")
def figures_page(request: Request, user: SessionUser) -> Response:
    """The figures: what the API has of them."""
    access.require_ops(user)
    available = _api_has(request, "/api/v1/metrics")
    return render(
        request,
        "ops_pending.html",
        {"kind": "figures", "available": available, "api_path": "/api/v1/metrics"},
        user=user,
    )
