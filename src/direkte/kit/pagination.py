"""One cursor format for every list: an opaque token carrying one position.

A list ordered by id carries the last id it showed (keyset); a list ordered by
a computed key (the inbox's urgency) carries an offset. Either way the client
passes ``next_cursor`` back unchanged.
"""

from __future__ import annotations

import base64

from direkte.errors import BadRequest
from direkte.fields import MAX_ROW_ID


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


_KIND = "p"


def encode_cursor(position: int) -> str:
    """The cursor of the next page after ``position``."""
    return base64.urlsafe_b64encode(f"{_KIND}:{position}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    """The position a cursor carries (None without one). Raises InvalidCursor."""
    if cursor is None:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        position = int(value)
        # Ids are 32-bit integers on both databases; a larger bound would overflow there.
        if kind != _KIND or not 0 <= position <= MAX_ROW_ID:
            raise ValueError
        return position
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(
            "invalid cursor", [{"field": "cursor", "message": "invalid cursor"}]
        ) from None
