"""The case page (``/app/cases/{id}``) and what the customer does there: write, appeal,
withdraw, rate. Each action is the use case its API route calls.

Staff open the same path and get their own view (``direkte.web.staff``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from direkte import access
from direkte.auth.deps import SessionUser
from direkte.errors import DomainError
from direkte.escalations import service as escalations
from direkte.escalations.models import Escalation
from direkte.escalations.schemas import (
    AppealIn,
    EscalationDetail,
    MessageCreate,
    RatingIn,
    escalation_detail,
    guardrail_for,
    message_out,
)
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.idempotent import run_idempotent
from direkte.kit.params import RowId
from direkte.network.models import User
from direkte.web import language, staff
from direkte.web.rendering import render
from direkte.web.routing import page_router

router = page_router()
# Statuses in which the customer can still write in the thread (the use case decides;
# the page only leaves out a form that would be refused).
WRITABLE = ("open", "acknowledged", "awaiting_customer")
WITHDRAWABLE = ("held", "open", "acknowledged", "awaiting_customer")


def _case(session: SessionDep, user: User, case_id: int) -> Escalation:
    return escalations.get_escalation(session, viewer=user, escalation_id=case_id)


def _case_data(
    request: Request, session: SessionDep, clock: ClockDep, user: User, case: Escalation
) -> dict[str, Any]:
    """The case as ``GET /escalations/{id}`` shows it, with the visit's place and, for a
    customer, whether an appeal is allowed now and why not."""
    detail: EscalationDetail = escalation_detail(case, now=clock.now(), viewer=user)
    appeal = None
    if detail.status.value == "resolved" and not access.is_staff(user):
        appeal = escalations.preview_appeal(
            session,
            clock,
            viewer=user,
            escalation_id=case.id,
            language=language.choose(request, user),
        )
    visit = case.visit
    return {
        "case": detail,
        "zone": visit.center.time_zone,
        "center": visit.center.name,
        "vehicle": visit.vehicle.model,
        "appeal": appeal,
        "writable": detail.status.value in WRITABLE,
        "withdrawable": detail.status.value in WITHDRAWABLE,
        "rateable": detail.status.value in ("resolved", "closed") and detail.rating is None,
        "idempotency_key": uuid.uuid4().hex,
    }


def _page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: User,
    case_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    case = _case(session, user, case_id)
    data = {**_case_data(request, session, clock, user, case), **extra}
    return render(request, "case.html", data, user=user, status_code=status_code)


@router.get("/app/cases/{case_id}")
def case_page(
    case_id: RowId, request: Request, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """The case: who handles it and by when, the thread, the outcome, what you can do.
    Staff see it whole with the visit and their actions (``staff.staff_case_page``)."""
    if access.is_staff(user):
        return staff.staff_case_page(request, session, clock, user, case_id)
    return _page(request, session, clock, user, case_id, sent=request.query_params.get("sent"))


@router.get("/app/cases/{case_id}/thread")
def case_thread(
    case_id: RowId, request: Request, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """The thread alone (htmx polls it, so new messages show without reloading)."""
    case = _case(session, user, case_id)
    detail = escalation_detail(case, now=clock.now(), viewer=user)
    data = {"case": detail, "zone": case.visit.center.time_zone}
    return render(request, "_thread.html", data, user=user)


@router.post("/app/cases/{case_id}/messages")
def write_message(
    case_id: RowId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    body: Annotated[str, Form(max_length=8000)] = "",
    idempotency_key: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Write in the thread (as ``POST /escalations/{id}/messages``, with the form's key)."""
    try:
        message = MessageCreate(body=body)
    except ValidationError:
        return _page(request, session, clock, user, case_id, status_code=422, error="body")

    def act() -> tuple[int, Any]:
        written = escalations.post_message(
            session, clock, viewer=user, escalation_id=case_id, body=message.body
        )
        session.flush()
        return 201, message_out(written).model_dump(mode="json")

    try:
        run_idempotent(
            session,
            request=request,
            body=message,
            scope=f"user:{user.id}",
            key=idempotency_key or None,
            now=clock.now(),
            action=act,
        )
    except DomainError as refused:
        if refused.status != 409:
            raise
        session.rollback()
        return _page(request, session, clock, user, case_id, status_code=409, error="state")
    if request.headers.get("hx-request"):
        case = _case(session, user, case_id)
        data = _case_data(request, session, clock, user, case)
        return render(request, "_conversation.html", data, user=user)
    return RedirectResponse(f"/app/cases/{case_id}#thread", status_code=303)


@router.post("/app/cases/{case_id}/appeal")
def appeal(
    case_id: RowId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    reason: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Appeal the outcome to the regional manager (as ``POST /escalations/{id}/appeal``)."""
    try:
        body = AppealIn(reason=reason)
    except ValidationError:
        return _page(request, session, clock, user, case_id, status_code=422, error="reason")
    appealed = escalations.appeal_escalation(
        session, clock, viewer=user, escalation_id=case_id, reason=body.reason
    )
    session.commit()
    if appealed.decision.decision == "reject":
        refusal = guardrail_for(user, appealed.guardrail)
        return _page(
            request, session, clock, user, case_id, status_code=422, appeal_refused=refusal
        )
    return RedirectResponse(f"/app/cases/{case_id}?appealed=1", status_code=303)


@router.post("/app/cases/{case_id}/withdraw")
def withdraw(case_id: RowId, session: SessionDep, clock: ClockDep, user: SessionUser) -> Response:
    """Withdraw the case (as ``POST /escalations/{id}/withdraw``)."""
    escalations.withdraw_escalation(session, clock, viewer=user, escalation_id=case_id)
    session.commit()
    return RedirectResponse(f"/app/cases/{case_id}", status_code=303)


@router.post("/app/cases/{case_id}/rating")
def rate(
    case_id: RowId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    score: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Rate the handling 1 to 5 (as ``POST /escalations/{id}/rating``)."""
    try:
        body = RatingIn.model_validate({"score": score, "comment": comment.strip() or None})
    except ValidationError:
        return _page(request, session, clock, user, case_id, status_code=422, error="score")
    escalations.rate_escalation(
        session, clock, viewer=user, escalation_id=case_id, score=body.score, comment=body.comment
    )
    session.commit()
    return RedirectResponse(f"/app/cases/{case_id}?rated=1", status_code=303)
