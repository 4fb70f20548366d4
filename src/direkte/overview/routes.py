"""The customer's and staff's reads of visits with their cases and contacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from direkte.auth.deps import CurrentUser, authenticated_router
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.errors import ERROR_RESPONSES
from direkte.kit.params import RowId
from direkte.kit.responses import validated_json
from direkte.overview import service
from direkte.overview.schemas import VisitOut, VisitPage, visit_out

router = authenticated_router(tags=["visits"], responses=ERROR_RESPONSES)


@router.get("/me/visits", response_model=VisitPage)
def list_my_visits(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The caller's visits, newest first (staff: the visits of their center or region)."""
    views, next_cursor = service.view_visits(
        session, clock, viewer=user, limit=limit, cursor=cursor
    )
    session.commit()
    return validated_json(
        VisitPage(
            items=[visit_out(v.doc, v.contacts, v.escalations, clock.now(), user) for v in views],
            next_cursor=next_cursor,
        )
    )


@router.get("/visits/{visit_id}", response_model=VisitOut)
def get_visit(visit_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser) -> Response:
    """One visit with its revisions, escalations and manager contacts."""
    view = service.view_visit(session, clock, viewer=user, visit_id=visit_id)
    session.commit()
    return validated_json(visit_out(view.doc, view.contacts, view.escalations, clock.now(), user))
