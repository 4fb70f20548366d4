"""Escalation endpoints for customers and staff (API.md, Customer and Staff)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from direkte import access
from direkte.auth.deps import CurrentUser, authenticated_router
from direkte.escalations import service
from direkte.escalations.models import EscalationMessage, EscalationStatus
from direkte.escalations.schemas import (
    AppealIn,
    AppealPreviewOut,
    CallCreate,
    EscalationCreate,
    EscalationDetail,
    EscalationOut,
    EscalationPreviewIn,
    HeldPage,
    InboxPage,
    MessageCreate,
    MessageOut,
    NoteCreate,
    PreviewOut,
    RatingIn,
    RejectIn,
    ResolveIn,
    escalation_detail,
    escalation_out,
    guardrail_for,
    held_out,
    message_out,
    open_and_answer,
    page_json,
    preview_out,
)
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.errors import ERROR_RESPONSES, REFUSED
from direkte.kit.idempotent import IdempotencyKey, run_idempotent
from direkte.kit.pagination import ListKind, decode_cursor, encode_cursor
from direkte.kit.params import RowId

router = authenticated_router(tags=["escalations"], responses=ERROR_RESPONSES)
moderation = authenticated_router(tags=["moderation"], responses={**ERROR_RESPONSES, **REFUSED})
# The statuses an inbox holds (an open case's), for its filter.
InboxStatus = Literal["open", "acknowledged", "awaiting_customer"]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The case's status or version does not allow this"}
}
# An action on a case: refused to a role (or to staff who may not act at its tier),
# or in conflict with its status or version.
ACTION = {**CONFLICT, **REFUSED}


@router.post(
    "/visits/{visit_id}/escalations",
    status_code=201,
    response_model=EscalationOut,
    responses={
        200: {"description": "Folded into the open case", "model": EscalationOut},
        **REFUSED,
    },
)
def open_escalation(
    visit_id: RowId,
    body: EscalationCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Escalate a diagnosis, estimate or warranty decision of a visit."""
    return run_idempotent(
        session,
        request=request,
        body=body,
        scope=f"user:{user.id}",
        key=idempotency_key,
        now=clock.now(),
        action=partial(open_and_answer, session, clock, viewer=user, visit_id=visit_id, body=body),
    )


@router.post("/visits/{visit_id}/escalations/preview", response_model=PreviewOut, responses=REFUSED)
def preview_escalation(
    visit_id: RowId,
    body: EscalationPreviewIn,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
) -> PreviewOut:
    """What the guardrails would decide now for this request; nothing is recorded and
    nobody is told."""
    preview = service.preview_escalation(
        session,
        clock,
        viewer=user,
        visit_id=visit_id,
        category=body.category,
        subject_id=body.subject_id,
        reason=body.reason,
    )
    return preview_out(preview, viewer=user)


@router.get("/escalations/{escalation_id}")
def get_escalation(
    escalation_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EscalationDetail:
    """The case with its thread and timeline (staff also see notes and calls)."""
    case = service.get_escalation(session, viewer=user, escalation_id=escalation_id)
    return escalation_detail(case, now=clock.now(), viewer=user)


@router.post(
    "/escalations/{escalation_id}/messages",
    status_code=201,
    response_model=MessageOut,
    responses=ACTION,
)
def post_message(
    escalation_id: RowId,
    body: MessageCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Write in the case's thread (customer or staff)."""

    def act() -> tuple[int, Any]:
        message = service.post_message(
            session,
            clock,
            viewer=user,
            escalation_id=escalation_id,
            body=body.body,
            await_customer=body.await_customer and access.is_staff(user),
        )
        session.flush()
        return 201, _message_json(message)

    return run_idempotent(
        session,
        request=request,
        body=body,
        scope=f"user:{user.id}",
        key=idempotency_key,
        now=clock.now(),
        action=act,
    )


def _message_json(message: EscalationMessage) -> Any:
    return message_out(message).model_dump(mode="json")


@router.post("/escalations/{escalation_id}/appeal", responses=ACTION)
def appeal_escalation(
    escalation_id: RowId, body: AppealIn, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EscalationOut:
    """Appeal a local manager's outcome to the regional manager (once, within 7 days)."""
    appealed = service.appeal_escalation(
        session, clock, viewer=user, escalation_id=escalation_id, reason=body.reason
    )
    session.commit()
    if appealed.decision.decision == "reject":
        raise service.appeal_refusal(appealed, guardrail_for(user, appealed.guardrail))
    return escalation_out(appealed.escalation, now=clock.now(), viewer=user)


@router.post("/escalations/{escalation_id}/appeal/preview", responses=REFUSED)
def preview_appeal(
    escalation_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> AppealPreviewOut:
    """Whether the customer may appeal now, and why not; nothing is recorded."""
    found = service.preview_appeal(session, clock, viewer=user, escalation_id=escalation_id)
    return AppealPreviewOut(
        allowed=found.allowed, explanation=found.explanation, window_ends=found.window_ends
    )


@router.post("/escalations/{escalation_id}/withdraw", responses=ACTION)
def withdraw_escalation(
    escalation_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EscalationOut:
    """Withdraw the case (the customer, before it is resolved)."""
    case = service.withdraw_escalation(session, clock, viewer=user, escalation_id=escalation_id)
    session.commit()
    return escalation_out(case, now=clock.now(), viewer=user)


@router.post("/escalations/{escalation_id}/rating", status_code=201, responses=ACTION)
def rate_escalation(
    escalation_id: RowId, body: RatingIn, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EscalationOut:
    """Rate the handling 1 to 5 once the case is resolved (once)."""
    case = service.rate_escalation(
        session,
        clock,
        viewer=user,
        escalation_id=escalation_id,
        score=body.score,
        comment=body.comment,
    )
    session.commit()
    return escalation_out(case, now=clock.now(), viewer=user)


@router.get("/inbox", response_model=InboxPage, responses=REFUSED)
def list_inbox(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[InboxStatus | None, Query(description="only cases in this status")] = None,
    center: Annotated[
        str | None, Query(max_length=32, description="only cases at this center (its code)")
    ] = None,
) -> Response:
    """The caller's open cases, breached first, then by the nearest due time."""
    offset = decode_cursor(cursor, ListKind.inbox) or 0
    items = service.inbox_items_json(
        session,
        clock,
        viewer=user,
        limit=limit + 1,
        offset=offset,
        status=EscalationStatus(status) if status else None,
        center=center,
    )
    # The read ends with a commit, not the rollback of a session closed in a transaction:
    # psycopg drops every prepared statement of the connection on ROLLBACK, the page's
    # among them (PostgreSQL would parse and plan it again on every request: about half
    # of its cost), and closing a session still in a transaction costs one more hop
    # through the thread pool.
    session.commit()
    more = len(items) > limit
    next_cursor = encode_cursor(ListKind.inbox, offset + limit) if more else None
    return Response(page_json(items[:limit], next_cursor), media_type="application/json")


@router.post("/escalations/{escalation_id}/acknowledge", responses=ACTION)
def acknowledge_escalation(
    escalation_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EscalationOut:
    """Take up the case (staff); counts as the first response."""
    case = service.acknowledge_escalation(session, clock, viewer=user, escalation_id=escalation_id)
    session.commit()
    return escalation_out(case, now=clock.now(), viewer=user)


@router.post("/escalations/{escalation_id}/resolve", response_model=EscalationOut, responses=ACTION)
def resolve_escalation(
    escalation_id: RowId,
    body: ResolveIn,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the outcome with the money delta and a note the customer reads."""

    def act() -> tuple[int, Any]:
        case = service.resolve_escalation(
            session,
            clock,
            viewer=user,
            escalation_id=escalation_id,
            outcome=body.outcome,
            amount_delta=body.amount_delta,
            note=body.note,
            version=body.version,
        )
        return 200, escalation_out(case, now=clock.now(), viewer=user).model_dump(mode="json")

    return run_idempotent(
        session,
        request=request,
        body=body,
        scope=f"user:{user.id}",
        key=idempotency_key,
        now=clock.now(),
        action=act,
    )


@router.post("/escalations/{escalation_id}/notes", status_code=201, responses=ACTION)
def add_note(
    escalation_id: RowId, body: NoteCreate, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> MessageOut:
    """Add a staff-only note (never shown to the customer)."""
    note = service.add_note(
        session, clock, viewer=user, escalation_id=escalation_id, body=body.body
    )
    session.commit()
    return message_out(note)


@router.post("/escalations/{escalation_id}/calls", status_code=201, responses=ACTION)
def log_call(
    escalation_id: RowId, body: CallCreate, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> MessageOut:
    """Log a call with the customer: when, how long, and a summary."""
    call = service.log_call(
        session,
        clock,
        viewer=user,
        escalation_id=escalation_id,
        summary=body.summary,
        called_at=body.called_at,
        duration_seconds=body.duration_seconds,
    )
    session.commit()
    return message_out(call)


@moderation.get("/moderation/held")
def list_held(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HeldPage:
    """Cases held by the guardrails for a human check (ops_admin), oldest first."""
    offset = decode_cursor(cursor, ListKind.held) or 0
    cases = service.list_held(session, viewer=user, limit=limit + 1, offset=offset)
    now = clock.now()
    return HeldPage(
        items=[held_out(c, now=now, viewer=user) for c in cases[:limit]],
        next_cursor=encode_cursor(ListKind.held, offset + limit) if len(cases) > limit else None,
    )


@moderation.post("/moderation/{escalation_id}/approve", responses=ACTION)
def approve_held(
    escalation_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EscalationOut:
    """Release a held case to the tier its decision named (ops_admin)."""
    case = service.approve_held(session, clock, viewer=user, escalation_id=escalation_id)
    session.commit()
    return escalation_out(case, now=clock.now(), viewer=user)


@moderation.post("/moderation/{escalation_id}/reject", responses=ACTION)
def reject_held(
    escalation_id: RowId, body: RejectIn, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EscalationOut:
    """Turn a held case down with a reason the customer reads (ops_admin)."""
    case = service.reject_held(
        session, clock, viewer=user, escalation_id=escalation_id, reason=body.reason
    )
    session.commit()
    return escalation_out(case, now=clock.now(), viewer=user)
