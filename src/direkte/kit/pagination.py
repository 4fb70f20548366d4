"""One cursor format for every list: an opaque token carrying the list's kind and one
position.

A list ordered by id carries the last id it showed (keyset); a list ordered by
a computed key (the inbox's urgency) carries an offset. Either way the client
passes ``next_cursor`` back unchanged; a cursor of another list is refused.
"""

from __future__ import annotations

import base64
from enum import StrEnum

from direkte.errors import BadRequest
from direkte.fields import MAX_ROW_ID


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


class ListKind(StrEnum):
    """Which list a cursor belongs to, and so what its position means."""

    visits = "v"  # keyset: the last visit id shown
    policy_versions = "p"  # keyset: the last version shown
    inbox = "i"  # offset
    held = "h"  # offset
    audit = "a"  # keyset: the last audit event id shown
    notifications = "n"  # keyset: the last notification id shown
    webhooks = "w"  # keyset: the last webhook id shown
    webhook_attempts = "t"  # keyset: the last delivery attempt id shown


_KEYSET = frozenset(
    {
        ListKind.visits,
        ListKind.policy_versions,
        ListKind.audit,
        ListKind.notifications,
        ListKind.webhooks,
        ListKind.webhook_attempts,
    }
)


def encode_cursor(kind: ListKind, position: int) -> str:
    """The cursor of the next page of ``kind`` after ``position``."""
    return base64.urlsafe_b64encode(f"{kind.value}:{position}".encode()).decode()


def decode_cursor(cursor: str | None, kind: ListKind) -> int | None:
    """The position a cursor of ``kind`` carries (None without one). Raises InvalidCursor."""
    if cursor is None:
        return None
    lowest = 1 if kind in _KEYSET else 0
    try:
        tag, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        position = int(value)
        # Ids are 32-bit integers on both databases; a larger bound would overflow there.
        if tag != kind.value or not value.isascii() or not lowest <= position <= MAX_ROW_ID:
            raise ValueError
        return position
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(
            "invalid cursor", [{"field": "cursor", "message": "invalid cursor"}]
        ) from None
