"""The customer's pages: visits, a visit, escalating, and notifications.

Each page calls the use case its API route calls and shows the API's output schema
(docs/architecture.md, "Web app")."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from direkte.auth.deps import SessionUser
from direkte.escalations import service as escalations
from direkte.escalations.models import Category
from direkte.escalations.schemas import EscalationCreate, open_and_answer, preview_out
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.idempotent import run_idempotent
from direkte.kit.params import RowId
from direkte.notifications import inbox as notifications
from direkte.overview import service as overview
from direkte.overview.schemas import VisitOut, visit_out
from direkte.web import language
from direkte.web.rendering import render
from direkte.web.routing import page_router
from direkte.web.views import diagnosis_revisions, estimate_revisions, warranty_revisions

router = page_router()
PAGE_SIZE = 20
ACTIVE = ("held", "open", "acknowledged", "awaiting_customer")


@router.get("/app/visits")
def visits_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """My visits, newest first (as ``GET /me/visits``)."""
    views, next_cursor = overview.view_visits(
        session, clock, viewer=user, limit=PAGE_SIZE, cursor=cursor
    )
    session.commit()  # the contacts revealed are audited
    now = clock.now()
    visits = [visit_out(v.doc, v.contacts, v.escalations, now, user) for v in views]
    return render(request, "visits.html", {"visits": visits, "next_cursor": next_cursor}, user=user)


def _visit(session: SessionDep, clock: ClockDep, user: SessionUser, visit_id: int) -> VisitOut:
    view = overview.view_visit(session, clock, viewer=user, visit_id=visit_id)
    session.commit()  # the contacts revealed are audited
    return visit_out(view.doc, view.contacts, view.escalations, clock.now(), user)


@router.get("/app/visits/{visit_id}")
def visit_page(
    visit_id: RowId, request: Request, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """A visit: status and history, revisions with what changed, the managers, the cases
    (as ``GET /visits/{id}``)."""
    visit = _visit(session, clock, user, visit_id)
    open_case = next((c for c in visit.escalations if c.status.value in ACTIVE), None)
    return render(
        request,
        "visit.html",
        {
            "visit": visit,
            "diagnoses": diagnosis_revisions(visit.diagnoses),
            "estimates": estimate_revisions(visit.estimates),
            "warranty": warranty_revisions(visit.warranty_decisions),
            "open_case": open_case,
        },
        user=user,
    )


def _subjects(visit: VisitOut) -> list[dict[str, Any]]:
    """What the customer may disagree with: each revision, newest first per kind."""
    subjects: list[dict[str, Any]] = []
    for d in reversed(visit.diagnoses):
        subjects.append({"value": f"diagnosis:{d.id}", "kind": "diagnosis", "item": d})
    for e in reversed(estimate_revisions(visit.estimates)):
        subjects.append({"value": f"estimate:{e.estimate.id}", "kind": "estimate", "item": e})
    for w in reversed(visit.warranty_decisions):
        subjects.append({"value": f"warranty:{w.id}", "kind": "warranty", "item": w})
    return subjects


def _parse_subject(subject: str | None) -> tuple[Category, int] | None:
    if not subject:
        return None
    kind, _, ident = subject.partition(":")
    if kind not in Category.__members__ or not ident.isdigit() or len(ident) > 12:
        return None
    return Category(kind), int(ident)


def _escalate_page(
    request: Request,
    visit: VisitOut,
    user: SessionUser,
    *,
    subject: str | None,
    reason: str,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    data = {
        "preview": None,
        "visit": visit,
        "subjects": _subjects(visit),
        "subject": subject,
        "reason": reason,
        "idempotency_key": uuid.uuid4().hex,
        **extra,
    }
    return render(request, "escalate.html", data, user=user, status_code=status_code)


@router.get("/app/visits/{visit_id}/escalate")
def escalate_page(
    visit_id: RowId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    subject: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Pick the revision you disagree with and say why; with one picked, what would
    happen is shown at once."""
    visit = _visit(session, clock, user, visit_id)
    preview = _preview(session, clock, user, request, visit_id, subject, "")
    return _escalate_page(request, visit, user, subject=subject, reason="", preview=preview)


def _preview(
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    request: Request,
    visit_id: int,
    subject: str | None,
    reason: str,
) -> Any:
    """The guardrails' answer as ``POST /visits/{id}/escalations/preview`` gives it, in
    the page's language; None until a subject is picked."""
    picked = _parse_subject(subject)
    if picked is None:
        return None
    preview = escalations.preview_escalation(
        session,
        clock,
        viewer=user,
        visit_id=visit_id,
        category=picked[0],
        subject_id=picked[1],
        reason=reason.strip()[:4000],
        language=language.choose(request, user),
    )
    return preview_out(preview, viewer=user)


@router.post("/app/visits/{visit_id}/escalate/preview")
def escalate_preview(
    visit_id: RowId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    subject: Annotated[str | None, Form(max_length=40)] = None,
    reason: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """The guardrails' answer before sending (an htmx partial); nothing is recorded."""
    preview = _preview(session, clock, user, request, visit_id, subject, reason)
    return render(request, "_preview.html", {"preview": preview}, user=user)


@router.post("/app/visits/{visit_id}/escalate")
def escalate(
    visit_id: RowId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    subject: Annotated[str | None, Form(max_length=40)] = None,
    reason: Annotated[str, Form(max_length=8000)] = "",
    idempotency_key: Annotated[str | None, Form(max_length=200)] = None,
    intent: Annotated[str, Form(max_length=20)] = "send",
) -> Response:
    """Send the escalation (as ``POST /visits/{id}/escalations`` with the form's
    Idempotency-Key: a double tap sends one request), or show the preview."""
    if intent == "preview":
        preview = _preview(session, clock, user, request, visit_id, subject, reason)
        visit = _visit(session, clock, user, visit_id)
        return _escalate_page(request, visit, user, subject=subject, reason=reason, preview=preview)
    picked = _parse_subject(subject)
    try:
        if picked is None:
            raise ValueError("subject")
        body = EscalationCreate(category=picked[0], subject_id=picked[1], reason=reason)
    except (ValidationError, ValueError) as bad:
        visit = _visit(session, clock, user, visit_id)
        fields = _bad_fields(bad)
        return _escalate_page(
            request, visit, user, subject=subject, reason=reason, status_code=422, errors=fields
        )

    answer = run_idempotent(
        session,
        request=request,
        body=body,
        scope=f"user:{user.id}",
        key=idempotency_key or None,
        now=clock.now(),
        action=partial(open_and_answer, session, clock, viewer=user, visit_id=visit_id, body=body),
    )
    content = orjson.loads(answer.body)
    if answer.status_code in (200, 201):
        return RedirectResponse(f"/app/cases/{content['id']}?sent=1", status_code=303)
    visit = _visit(session, clock, user, visit_id)
    return _escalate_page(
        request,
        visit,
        user,
        subject=subject,
        reason=reason,
        status_code=answer.status_code,
        refused=content["error"],
    )


def _bad_fields(error: ValidationError | ValueError) -> set[str]:
    if isinstance(error, ValidationError):
        return {str(e["loc"][0]) for e in error.errors() if e.get("loc")}
    return {str(error)}


@router.get("/app/notifications")
def notifications_page(
    request: Request,
    session: SessionDep,
    user: SessionUser,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """My in-app notifications, newest first (as ``GET /notifications``)."""
    items, next_cursor = notifications.list_notifications(
        session,
        viewer=user,
        limit=PAGE_SIZE,
        cursor=cursor,
        language=language.choose(request, user),
    )
    return render(
        request,
        "notifications.html",
        {"notifications": items, "next_cursor": next_cursor},
        user=user,
    )


@router.post("/app/notifications/{notification_id}/read")
def read_notification(
    notification_id: RowId, session: SessionDep, clock: ClockDep, user: SessionUser
) -> Response:
    """Mark a notification read and open what it is about."""
    note = notifications.read_notification(
        session, clock, viewer=user, notification_id=notification_id
    )
    session.commit()
    target = note.link if note.link.startswith("/app/") else "/app/notifications"
    return RedirectResponse(target, status_code=303)
