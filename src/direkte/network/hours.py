"""A center's opening hours in its own time zone, less public holidays and closed dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
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
