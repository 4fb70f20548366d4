"""A center's opening hours in its own time zone, less public holidays and closed dates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from direkte.fields import WEEKDAYS, parse_interval


@lru_cache(maxsize=512)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The country's public holidays in ``year`` (the ``holidays`` public category)."""
    try:
        calendar = holidays.country_holidays(country, years=year, categories=("public",))
    except (NotImplementedError, KeyError):
        return frozenset()
    return frozenset(calendar.keys())


def opening_hours(
    time_zone: str, country: str, business_hours: dict[str, Any], closed_dates: list[str]
) -> OpeningHours:
    """``OpeningHours.of``, memoized on the values (they are parsed on every read)."""
    key = json.dumps([business_hours, sorted(str(d) for d in closed_dates)], sort_keys=True)
    return _opening_hours(time_zone, country, key)


@lru_cache(maxsize=1024)
def _opening_hours(time_zone: str, country: str, key: str) -> OpeningHours:
    business_hours, closed_dates = json.loads(key)
    return OpeningHours.of(
        time_zone=time_zone,
        country=country,
        business_hours=business_hours,
        closed_dates=closed_dates,
    )


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly local intervals (index 0 = Monday) plus the days the center is closed."""

    zone: ZoneInfo
    country: str
    weekly: tuple[tuple[tuple[time, time], ...], ...]
    closed_dates: frozenset[date]

    @classmethod
    def of(
        cls,
        *,
        time_zone: str,
        country: str,
        business_hours: dict[str, Any],
        closed_dates: list[str],
    ) -> OpeningHours:
        weekly = tuple(
            tuple(sorted(parse_interval(text) for text in business_hours.get(day, [])))
            for day in WEEKDAYS
        )
        return cls(
            zone=ZoneInfo(time_zone),
            country=country,
            weekly=weekly,
            closed_dates=frozenset(date.fromisoformat(str(d)) for d in closed_dates),
        )

    def is_open_day(self, day: date) -> bool:
        return (
            bool(self.weekly[day.weekday()])
            and day not in self.closed_dates
            and day not in public_holidays(self.country, day.year)
        )

    def intervals_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """The local opening intervals on ``day`` (none on holidays and closed dates)."""
        return self.weekly[day.weekday()] if self.is_open_day(day) else ()

    def is_open_at(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        return any(
            start <= now < end or (end == time.max and now >= start)
            for start, end in self.intervals_on(local.date())
        )


# The longest closed stretch we look across (a center closed for longer is misconfigured);
# the search goes on for as long as open intervals keep coming, so a center open a
# quarter of an hour a week still reaches a due time weeks ahead, up to ten years in all
# (past that the hours are too sparse for the target, and the search would only cost).
_HORIZON_DAYS = 400
_SEARCH_DAYS = 3653


class NoOpeningHours(ValueError):
    """The center has no opening hours within the search horizon."""


def _local_interval(zone: ZoneInfo, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    opens = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
    if end == time.max:
        closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    else:
        closes = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
    return opens, closes


@lru_cache(maxsize=4096)
def _utc_intervals_on(hours: OpeningHours, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The day's open intervals in UTC, memoized: an inbox page's due times (one per
    case) walk the same days of the same few centers."""
    return tuple(
        _local_interval(hours.zone, day, local_start, local_end)
        for local_start, local_end in hours.intervals_on(day)
    )


def open_intervals(hours: OpeningHours, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals in UTC, in order, from the local day of ``start`` on (clipped to it)."""
    day = start.astimezone(hours.zone).date()
    closed_days = 0
    for _ in range(_SEARCH_DAYS):
        if closed_days >= _HORIZON_DAYS:
            break
        closed_days += 1
        for local_start, local_end in hours.intervals_on(day):
            opens, closes = _local_interval(hours.zone, day, local_start, local_end)
            if closes <= start or closes <= opens:
                continue
            closed_days = 0
            yield max(opens, start), closes
        day += timedelta(days=1)
    raise NoOpeningHours(
        f"no opening hours within {_HORIZON_DAYS} days, or not enough within {_SEARCH_DAYS}"
    )


def add_business_time(hours: OpeningHours, start: datetime, duration: timedelta) -> datetime:
    """The instant when ``duration`` of business time has passed since ``start``.

    A result that lands exactly on a closing time is that closing time; a zero
    duration from closed hours gives the next opening.
    """
    if duration < timedelta(0):
        raise ValueError("negative duration")
    start = start.astimezone(UTC)
    remaining = duration
    for opens, closes in open_intervals(hours, start):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise NoOpeningHours(f"no opening hours within {_HORIZON_DAYS} days")  # pragma: no cover


def business_time_between(hours: OpeningHours, start: datetime, end: datetime) -> timedelta:
    """Business time in [start, end); zero when end is not after start."""
    total = timedelta(0)
    if end <= start:
        return total
    day = start.astimezone(hours.zone).date()
    last = end.astimezone(hours.zone).date()
    while day <= last:
        for opens, closes in _utc_intervals_on(hours, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def close_of_business_day(hours: OpeningHours, instant: datetime) -> datetime:
    """The closing time of the business day that ``instant`` falls in (or the next one).

    An instant exactly at a closing time belongs to the day it closes.
    """
    local_day = instant.astimezone(hours.zone).date()
    # The previous day too: an interval ending at 24:00 closes at 00:00 of the next.
    for day in (local_day - timedelta(days=1), local_day):
        closings = [
            _local_interval(hours.zone, day, local_start, local_end)[1]
            for local_start, local_end in hours.intervals_on(day)
        ]
        if instant in closings:
            return max(closings)
    for opens, closes in open_intervals(hours, instant):
        day = opens.astimezone(hours.zone).date()
        last_close = closes
        for local_start, local_end in hours.intervals_on(day):
            last_close = max(
                last_close, _local_interval(hours.zone, day, local_start, local_end)[1]
            )
        return last_close
    raise NoOpeningHours(f"no opening hours within {_HORIZON_DAYS} days")  # pragma: no cover
