"""The customer's pages: visits, a visit, escalating, a case, notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from direkte.auth.deps import SessionUser
from direkte.kit.deps import ClockDep, SessionDep
from direkte.overview import service as overview
from direkte.overview.schemas import visit_out
from direkte.web.rendering import render
from direkte.web.routing import page_router

router = page_router()
PAGE_SIZE = 20


@router.get("/app/visits")
def visits_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: SessionUser,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """My visits, newest first (``GET /me/visits``)."""
    views, next_cursor = overview.view_visits(
        session, clock, viewer=user, limit=PAGE_SIZE, cursor=cursor
    )
    session.commit()  # the contacts revealed are audited
    now = clock.now()
    visits = [visit_out(v.doc, v.contacts, v.escalations, now, user) for v in views]
    return render(request, "visits.html", {"visits": visits, "next_cursor": next_cursor}, user=user)
