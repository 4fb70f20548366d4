"""The notifications' errors."""

from __future__ import annotations

from direkte.errors import Conflict, InvalidField, NotFound


class NotificationNotFound(NotFound):
    code = "notification_not_found"


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"


class InvalidWebhookUrl(InvalidField):
    code = "invalid_webhook_url"

    def __init__(self, message: str) -> None:
        super().__init__("url", message)


class UnknownEvent(InvalidField):
    code = "unknown_event"

    def __init__(self, names: list[str], known: tuple[str, ...]) -> None:
        super().__init__("events", f"unknown: {', '.join(names)}; known: {', '.join(known)}")


class NotDeadLettered(Conflict):
    code = "not_dead_lettered"
