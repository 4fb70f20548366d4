"""The ops pages: moderation, the guardrail policy with its editor and backtests, the
rollout and the figures (``/app/ops/...``).

Each calls the use case its API route calls: moderation ``escalations.service``, the
policy ``policy.service`` and the backtest ``analytics.backtest``, the figures, rollout,
advance and evaluation ``analytics.service``; the policy editor checks a candidate with
the same validation ``PUT /policy`` applies.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from direkte import access
from direkte.analytics import backtest
from direkte.analytics import service as analytics
from direkte.audit.service import Actor
from direkte.auth.deps import SessionUser
from direkte.errors import Conflict, DomainError
from direkte.escalations import service as escalations
from direkte.escalations.schemas import RejectIn, escalation_out
from direkte.guardrails.policy import validate_document
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.params import RowId
from direkte.network.models import User
from direkte.policy import service as policy
from direkte.web.charts import backtest_chart
from direkte.web.rendering import render
from direkte.web.routing import page_router

router = page_router()
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


def _refusal_problems(refused: DomainError) -> list[Any]:
    """A 422 refusal's problems as the policy page lists them: its details, or its
    message when it names none."""
    details = refused.details if isinstance(refused.details, list) else []
    return details or [{"field": "", "message": refused.message}]


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
    if not problems:
        try:
            start, end = _day(date_from, "from"), _day(date_to, "to") + timedelta(days=1)
            report = backtest.backtest_policy(session, document=raw, date_from=start, date_to=end)
        except _BadDate as bad:
            problems = [{"field": str(bad), "message": "a date as YYYY-MM-DD"}]
        except DomainError as refused:
            if refused.status != 422:
                raise
            problems = _refusal_problems(refused)
        else:
            return _policy_page(
                request,
                session,
                clock,
                user,
                candidate=document,
                extra={"report": report, "chart": backtest_chart(report), **dates},
            )
    return _policy_page(
        request,
        session,
        clock,
        user,
        candidate=document,
        extra={"problems": problems, **dates},
        status_code=422,
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
                actor=Actor.user(user),
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
            problems = _refusal_problems(refused)
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


FIGURES_DAYS = 28
Query32 = Annotated[str, Query(max_length=32)]


def _problem(field: str, value: str, kind: str) -> dict[str, str]:
    """A form problem the template words in the page's language (``kind``)."""
    return {"field": field, "value": value, "kind": kind}


def _use_case_problems(details: Any, asked: dict[str, str]) -> list[dict[str, str]]:
    """The use case's 422 problems as form problems, keyed by the field they name."""
    kinds = {"to": "before_from", "from": "too_long", "center": "unknown", "region": "unknown"}
    problems = details if isinstance(details, list) else []
    return [
        _problem(
            str(p.get("field", "")),
            asked.get(str(p.get("field", "")), ""),
            kinds.get(str(p.get("field", "")), "invalid"),
        )
        for p in problems
        if isinstance(p, dict)
    ]


@router.get("/app/ops/figures")
def figures_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    date_from: Annotated[str, Query(alias="from", max_length=32)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=32)] = "",
    region: Query32 = "",
    center: Query32 = "",
    group_by: Query32 = "",
) -> Response:
    """The §7 figures of a window (``GET /metrics``): ops any, staff their own center's or
    region's, as the use case allows; bad input is shown in the form (422)."""
    today = clock.now().date()
    asked = {
        "from": date_from.strip(),
        "to": date_to.strip(),
        "region": region.strip(),
        "center": center.strip(),
        "group_by": group_by.strip(),
    }
    problems: list[dict[str, str]] = []
    days: dict[str, date | None] = {}
    for field in ("from", "to"):
        try:
            days[field] = date.fromisoformat(asked[field]) if asked[field] else None
        except ValueError:
            problems.append(_problem(field, asked[field], "date"))
    if asked["group_by"] and asked["group_by"] not in analytics.GROUP_BYS:
        problems.append(_problem("group_by", asked["group_by"], "invalid"))
    figures = None
    if not problems:
        try:
            figures = analytics.read_metrics(
                session,
                clock,
                user,
                date_from=days["from"],
                date_to=days["to"],
                region=asked["region"] or None,
                center=asked["center"] or None,
                group_by=asked["group_by"] or None,
            )
        except analytics.FiguresInvalid as invalid:
            problems = _use_case_problems(invalid.details, asked)
    if figures is not None:
        shown_from, shown_to = figures["from"].isoformat(), figures["to"].isoformat()
    else:
        last = today - timedelta(days=1)
        shown_from = asked["from"] or (last - timedelta(days=FIGURES_DAYS - 1)).isoformat()
        shown_to = asked["to"] or last.isoformat()
    return render(
        request,
        "ops_figures.html",
        {
            "figures": figures,
            "problems": problems,
            "form": {**asked, "from": shown_from, "to": shown_to},
            "group_bys": analytics.GROUP_BYS,
            "max_days": analytics.MAX_WINDOW_DAYS,
        },
        user=user,
        status_code=422 if problems else 200,
    )


def _rollout_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: User,
    *,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
    evaluate: bool = False,
) -> Response:
    state = analytics.rollout_state(session, clock, user)
    evaluation = _evaluation(session, clock, user) if evaluate else None
    return render(
        request,
        "ops_rollout.html",
        {"state": state, "evaluation": evaluation, "refused": None, **(extra or {})},
        user=user,
        status_code=status_code,
    )


def _evaluation(session: SessionDep, clock: ClockDep, user: User) -> dict[str, Any]:
    return analytics.evaluate_program(session, clock, user, figure="same_day_resolution")


@router.get("/app/ops/rollout")
def rollout_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    evaluate: Annotated[bool, Query()] = False,
) -> Response:
    """Centers' program states and the waves with their gates (``GET /rollout``); with
    ``evaluate``, the evaluation of same-day resolution (``GET /rollout/evaluation``),
    which is computed only when asked for (it takes seconds)."""
    return _rollout_page(request, session, clock, user, evaluate=evaluate)


@router.get("/app/ops/rollout/evaluation")
def rollout_evaluation_part(
    request: Request, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """The evaluation of same-day resolution alone (``GET /rollout/evaluation``): the
    rollout page's "Run the evaluation" (htmx)."""
    evaluation = _evaluation(session, clock, user)
    return render(request, "_evaluation.html", {"evaluation": evaluation}, user=user)


@router.post("/app/ops/rollout/waves/{wave_id}/advance")
def advance_page(
    request: Request,
    wave_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    force: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Advance a wave (``POST /rollout/waves/{id}/advance``); a failing gate is shown with
    every failing condition, an override needs a reason."""
    try:
        analytics.advance_wave(
            session,
            clock,
            user,
            wave_id=wave_id,
            force=force,
            reason=reason.strip() or None,
        )
    except analytics.GateFailed as failed:
        session.rollback()
        details = failed.details if isinstance(failed.details, dict) else {}
        refused = {"wave": wave_id, "kind": "gate_failed", "failing": details.get("failing", [])}
        return _rollout_page(
            request, session, clock, user, extra={"refused": refused}, status_code=409
        )
    except analytics.WaveDone:
        session.rollback()
        refused = {"wave": wave_id, "kind": "wave_done", "failing": []}
        return _rollout_page(
            request, session, clock, user, extra={"refused": refused}, status_code=409
        )
    except analytics.FiguresInvalid:
        session.rollback()
        refused = {"wave": wave_id, "kind": "reason", "failing": []}
        return _rollout_page(
            request, session, clock, user, extra={"refused": refused}, status_code=422
        )
    session.commit()
    return RedirectResponse(f"/app/ops/rollout?done={wave_id}", status_code=303)
