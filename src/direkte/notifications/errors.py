"""The notifications' errors."""

from __future__ import annotations

from direkte.errors import NotFound


class NotificationNotFound(NotFound):
    code = "notification_not_found"
