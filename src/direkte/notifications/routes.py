"""The caller's in-app notifications; ops' webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from direkte.auth.deps import CurrentUser, OpsUser, authenticated_router, current_ops
from direkte.kit.deps import ClockDep, SessionDep, SettingsDep
from direkte.kit.errors import ERROR_RESPONSES, REFUSED
from direkte.kit.params import RowId
from direkte.notifications import service, subscriptions
from direkte.notifications.schemas import (
    DeliveryAttemptOut,
    DeliveryAttemptPage,
    DeliveryOut,
    NotificationOut,
    NotificationPage,
    QuietHours,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPage,
)

router = authenticated_router(
    prefix="/notifications", tags=["notifications"], responses=ERROR_RESPONSES
)


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


@router.put("/quiet-hours", responses=REFUSED)
def set_quiet_hours(
    body: QuietHours, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> QuietHours:
    """Set the caller's quiet hours (managers): notifications wait until they end,
    unless the case is safety-related."""
    manager = service.set_quiet_hours(session, clock, viewer=user, start=body.start, end=body.end)
    session.commit()
    return QuietHours(start=manager.quiet_hours_start, end=manager.quiet_hours_end)


@router.post("/{notification_id}/read", responses={404: {"description": "Not the caller's"}})
def read_notification(
    notification_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> NotificationOut:
    """Mark one of the caller's notifications read."""
    view = service.read_notification(session, clock, viewer=user, notification_id=notification_id)
    session.commit()
    return NotificationOut.model_validate(view)


# Every webhook endpoint is for ops only.
webhooks = authenticated_router(
    prefix="/webhooks",
    tags=["webhooks"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(current_ops)],
)


@webhooks.post("", status_code=201)
def register_webhook(
    body: WebhookCreate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    user: OpsUser,
) -> WebhookCreated:
    """Subscribe a URL to events; the answer shows the signing secret, once."""
    hook = subscriptions.register_webhook(
        session,
        clock,
        viewer=user,
        url=body.url,
        events=body.events,
        allow_private=settings.webhook_allow_private,
    )
    session.commit()
    return WebhookCreated.model_validate(hook)


@webhooks.get("")
def list_webhooks(
    session: SessionDep,
    user: OpsUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> WebhookPage:
    """The registered webhooks, newest first (secrets are not shown)."""
    rows, next_cursor = subscriptions.list_webhooks(
        session, viewer=user, limit=limit, cursor=cursor
    )
    return WebhookPage(items=[WebhookOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@webhooks.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: RowId, session: SessionDep, clock: ClockDep, user: OpsUser) -> None:
    """Stop a webhook; what is still due to it is dropped."""
    subscriptions.delete_webhook(session, clock, viewer=user, webhook_id=webhook_id)
    session.commit()


@webhooks.get("/{webhook_id}/deliveries")
def list_webhook_deliveries(
    webhook_id: RowId,
    session: SessionDep,
    user: OpsUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DeliveryAttemptPage:
    """Every attempt to deliver to the webhook, newest first."""
    rows, next_cursor = subscriptions.list_deliveries(
        session, viewer=user, webhook_id=webhook_id, limit=limit, cursor=cursor
    )
    return DeliveryAttemptPage(
        items=[DeliveryAttemptOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@webhooks.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    responses={409: {"description": "The delivery is not dead-lettered"}},
)
def replay_webhook_delivery(
    webhook_id: RowId, delivery_id: RowId, session: SessionDep, clock: ClockDep, user: OpsUser
) -> DeliveryOut:
    """Send a dead-lettered delivery again, with a fresh 24 hours of retries."""
    row = subscriptions.replay_delivery(
        session, clock, viewer=user, webhook_id=webhook_id, delivery_id=delivery_id
    )
    session.commit()
    return DeliveryOut.model_validate(row)
