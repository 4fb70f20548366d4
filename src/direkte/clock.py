"""The only place that reads the wall clock. Use cases take a ``Clock``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and replays: returns a set instant until moved."""

    def __init__(self, at: datetime) -> None:
        self.at = ensure_utc(at)

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: a time zone offset is required")
    return value.astimezone(UTC)
