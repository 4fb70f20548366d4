"""The staff's pages: the inbox (``/app/inbox``) and the case as staff see it
(``/app/cases/{id}``), with its actions.

Every page calls the use case its API route calls (``escalations.service``) and shows
the API's output schemas; a form is checked with the API's input schema, so a field
is refused here for the reason the API gives.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from direkte import access
from direkte.auth.deps import SessionUser
from direkte.errors import Conflict, DomainError
from direkte.escalations import service
from direkte.escalations.models import ACTIVE, EscalationStatus
from direkte.escalations.schemas import (
    CallCreate,
    MessageCreate,
    NoteCreate,
    ResolveIn,
    escalation_detail,
    inbox_item,
)
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.params import RowId
from direkte.network.models import Role, User
from direkte.web.rendering import render
from direkte.web.routing import page_router

router = page_router()
INBOX_PAGE = 50
Text = Annotated[str, Form(max_length=8000)]


def _field_errors(error: ValidationError) -> dict[str, str]:
    """The API's validation messages by field, for the form beside each field."""
    return {str(e["loc"][0]) if e["loc"] else "form": e["msg"] for e in error.errors()}


@router.get("/app/inbox")
def inbox_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    status: Annotated[str | None, Query(max_length=32)] = None,
    center: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    """My open cases, most urgent first (``GET /inbox``), with filters; a regional
    manager also sees the load of each local manager of the region."""
    chosen = EscalationStatus(status) if status in {s.value for s in ACTIVE} else None
    raw = service.inbox_items_json(
        session,
        clock,
        viewer=user,
        limit=INBOX_PAGE + 1,
        offset=page * INBOX_PAGE,
        status=chosen,
        center=center or None,
    )
    load = service.list_manager_load(session, clock, viewer=user) if _manages(user) else []
    # A commit, as GET /inbox ends its read: a rollback would drop the connection's
    # prepared statements, the page's among them (planned again on every request).
    session.commit()
    # The items exactly as GET /inbox answers them (built by the database there); the
    # template formats their times and money and looks their words up by value.
    items = [_card(item) for item in raw[:INBOX_PAGE]]
    centers = sorted({i["center"]["code"] for i in items} | ({center} if center else set()))
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            "load": load,
            "status": chosen.value if chosen else "",
            "center": center or "",
            "centers": centers,
            "page": page,
            "more": len(raw) > INBOX_PAGE,
            "statuses": [s.value for s in ACTIVE],
        },
        user=user,
    )


# An inbox item's JSON opens with the guardrail's decision (about half of its bytes),
# which the inbox page does not show; its next key, as the item is built.
_GUARDRAIL = b'{"guardrail":'
_AFTER_GUARDRAIL = b',"due_in_business_minutes":'


def _card(item: bytes) -> dict[str, Any]:
    """An inbox item's JSON read for its card: everything but the guardrail, which is
    skipped unparsed when the item opens with it (a quote inside a JSON string is
    escaped, so the next key's bytes can only be that key); otherwise all of it."""
    if item.startswith(_GUARDRAIL):
        after = item.find(_AFTER_GUARDRAIL)
        if after > 0:
            return orjson.loads(b"{" + item[after + 1 :])  # type: ignore[no-any-return]
    return orjson.loads(item)  # type: ignore[no-any-return]


def _manages(user: User) -> bool:
    return user.role in (Role.local_manager, Role.regional_manager)


def staff_case_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: User,
    case_id: int,
    *,
    changed: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The case with the whole visit for staff (``GET /escalations/{id}`` and the
    inbox's context): revisions with deltas, trouble codes, earlier visits, the
    decision with every rule; ``changed`` names the action someone else's change
    stopped (the page then shows the case as it is now)."""
    entry = service.get_case_entry(session, viewer=user, escalation_id=case_id)
    now = clock.now()
    item = inbox_item(entry, now=now, viewer=user)
    detail = escalation_detail(entry.case, now=now, viewer=user)
    return render(
        request,
        "case_staff.html",
        {
            "case": detail,
            "item": item,
            "visit": entry.visit,
            "tz": entry.visit.time_zone,
            "active": detail.status in ACTIVE,
            "changed": changed,
            "errors": errors or {},
            "form": form or {},
        },
        user=user,
        status_code=status_code,
    )


def _back(case_id: int, anchor: str = "") -> Response:
    return RedirectResponse(f"/app/cases/{case_id}{anchor}", status_code=303)


def _act(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: User,
    case_id: int,
    action: str,
    run: Any,
    form: dict[str, Any],
) -> Response:
    """Run one staff action and commit; a conflict (someone changed the case, or its
    status no longer allows the action) or a refused field shows the case again, as it
    is now, with what was typed kept."""
    errors: dict[str, str] | None = None
    changed: str | None = None
    try:
        run()
    except ValidationError as invalid:
        errors = _field_errors(invalid)
    except Conflict:
        changed = action
    except DomainError as refused:
        if refused.status != 422:
            raise
        errors = {"form": refused.message}
    else:
        session.commit()
        return _back(case_id)
    session.rollback()
    return staff_case_page(
        request,
        session,
        clock,
        user,
        case_id,
        errors=errors,
        changed=changed,
        form={"action": action, **form},
        status_code=409 if changed else 422,
    )


@router.post("/app/cases/{case_id}/acknowledge")
def acknowledge_page(
    request: Request, case_id: RowId, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """Take up the case (``POST /escalations/{id}/acknowledge``)."""

    def run() -> None:
        service.acknowledge_escalation(session, clock, viewer=user, escalation_id=case_id)

    return _act(request, session, clock, user, case_id, "acknowledge", run, {})


@router.post("/app/cases/{case_id}/reply")
def reply_page(
    request: Request,
    case_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    body: Text = "",
    await_customer: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """Write to the customer (``POST /escalations/{id}/messages``)."""
    form = {"body": body, "await_customer": bool(await_customer)}

    def run() -> None:
        data = MessageCreate(body=body, await_customer=bool(await_customer))
        access.require_staff(user)
        service.post_message(
            session,
            clock,
            viewer=user,
            escalation_id=case_id,
            body=data.body,
            await_customer=data.await_customer,
        )

    return _act(request, session, clock, user, case_id, "reply", run, form)


@router.post("/app/cases/{case_id}/notes")
def note_page(
    request: Request,
    case_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    body: Text = "",
) -> Response:
    """A staff-only note (``POST /escalations/{id}/notes``)."""

    def run() -> None:
        data = NoteCreate(body=body)
        service.add_note(session, clock, viewer=user, escalation_id=case_id, body=data.body)

    return _act(request, session, clock, user, case_id, "note", run, {"note": body})


@router.post("/app/cases/{case_id}/calls")
def call_page(
    request: Request,
    case_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    summary: Text = "",
    minutes: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Log a call (``POST /escalations/{id}/calls``), made now, of so many minutes."""
    form = {"summary": summary, "minutes": minutes}

    def run() -> None:
        duration = None
        if minutes.strip():
            duration = int(minutes) * 60 if minutes.strip().isdigit() else -1
        data = CallCreate(summary=summary, duration_seconds=duration)
        service.log_call(
            session,
            clock,
            viewer=user,
            escalation_id=case_id,
            summary=data.summary,
            called_at=None,
            duration_seconds=data.duration_seconds,
        )

    return _act(request, session, clock, user, case_id, "call", run, form)


@router.post("/app/cases/{case_id}/resolve")
def resolve_page(
    request: Request,
    case_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    outcome: Annotated[str, Form(max_length=16)] = "",
    amount_delta: Annotated[str, Form(max_length=40)] = "",
    note: Text = "",
    version: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Record the outcome (``POST /escalations/{id}/resolve``); a stale ``version`` shows
    the case as someone else left it, never overwrites it."""
    form = {"outcome": outcome, "amount_delta": amount_delta, "resolve_note": note}

    def run() -> None:
        data = ResolveIn.model_validate(
            {
                "outcome": outcome,
                "amount_delta": amount_delta.strip() or "0",
                "note": note,
                "version": version,
            }
        )
        service.resolve_escalation(
            session,
            clock,
            viewer=user,
            escalation_id=case_id,
            outcome=data.outcome,
            amount_delta=data.amount_delta,
            note=data.note,
            version=data.version,
        )

    return _act(request, session, clock, user, case_id, "resolve", run, form)
