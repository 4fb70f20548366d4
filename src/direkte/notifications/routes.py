"""The caller's in-app notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from direkte.auth.deps import CurrentUser, authenticated_router
from direkte.fields import MAX_ROW_ID
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.errors import ERROR_RESPONSES
from direkte.notifications import service
from direkte.notifications.schemas import NotificationOut, NotificationPage

router = authenticated_router(
    prefix="/notifications", tags=["notifications"], responses=ERROR_RESPONSES
)
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("")
def list_notifications(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> NotificationPage:
    """The caller's notifications, newest first, in the caller's language."""
    items, next_cursor = service.list_notifications(
        session, viewer=user, limit=limit, cursor=cursor
    )
    return NotificationPage(
        items=[NotificationOut.model_validate(i) for i in items], next_cursor=next_cursor
    )


@router.post("/{notification_id}/read", responses={404: {"description": "Not the caller's"}})
def read_notification(
    notification_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> NotificationOut:
    """Mark one of the caller's notifications read."""
    view = service.read_notification(session, clock, viewer=user, notification_id=notification_id)
    session.commit()
    return NotificationOut.model_validate(view)
