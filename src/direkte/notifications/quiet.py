"""Quiet hours: when a notification due now may reach a manager (DESIGN §7a)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(now: datetime, start: time, end: time, time_zone: str) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (local ``start``-``end`` in
    ``time_zone``, across midnight when ``end`` <= ``start``), else None."""
    if start == end:
        return None
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    overnight = end < start
    quiet = (start <= at or at < end) if overnight else (start <= at < end)
    if not quiet:
        return None
    day = local.date() if at < end else local.date() + timedelta(days=1)
    # Through UTC, so a wall time in a DST change still lands on one real instant.
    return datetime.combine(day, end, tzinfo=zone).astimezone(now.tzinfo)
