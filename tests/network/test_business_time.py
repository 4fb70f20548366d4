"""Business-time arithmetic over centers' opening hours, time zones and holidays.

Properties run over random centers (weekly hours with split and closed days,
five time zones, their countries' holidays, extra closed dates) and random
start instants in 2026-2027; named cases pin the DST weekends, holidays,
closed dates and closing times.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from direkte.network.hours import (
    NoOpeningHours,
    OpeningHours,
    add_business_time,
    business_time_between,
    close_of_business_day,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_HOURS = {d: ["08:00-16:00"] for d in WEEKDAYS[:5]}
ZONES = {
    "Europe/Oslo": "NO",
    "Europe/Copenhagen": "DK",
    "Europe/Stockholm": "SE",
    "Europe/Helsinki": "FI",
    "America/New_York": "US",
}
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def day_hours(draw: st.DrawFn) -> list[str]:
    """0 to 3 disjoint intervals on a 15-minute grid; the last may end at 24:00."""
    count = draw(st.integers(min_value=0, max_value=3))
    marks = sorted(
        draw(
            st.sets(
                st.integers(min_value=0, max_value=96).map(lambda q: q * 15),
                min_size=2 * count,
                max_size=2 * count,
            )
        )
    )
    pairs = zip(marks[::2], marks[1::2], strict=True)
    return [f"{_clock_text(a)}-{_clock_text(b)}" for a, b in pairs]


@st.composite
def centers(draw: st.DrawFn) -> OpeningHours:
    zone = draw(st.sampled_from(sorted(ZONES)))
    weekly = {day: draw(day_hours()) for day in WEEKDAYS}
    if not any(weekly.values()):
        weekly[draw(st.sampled_from(WEEKDAYS))] = ["09:00-17:00"]
    closed = draw(
        st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 1, 31)), max_size=8)
    )
    return OpeningHours.of(
        time_zone=zone,
        country=ZONES[zone],
        business_hours={day: spans for day, spans in weekly.items() if spans},
        closed_dates=[d.isoformat() for d in closed],
    )


FIRST_MINUTE = datetime(2026, 1, 1, tzinfo=UTC)
MINUTES_IN_RANGE = int((datetime(2028, 1, 1, tzinfo=UTC) - FIRST_MINUTE).total_seconds()) // 60
# The DST weekends of the five zones, weighted in so that transitions are tried often.
DST_SUNDAYS = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2027, 3, 14, tzinfo=UTC),
    datetime(2027, 3, 28, tzinfo=UTC),
    datetime(2027, 10, 31, tzinfo=UTC),
    datetime(2027, 11, 7, tzinfo=UTC),
]
starts = st.one_of(
    st.integers(min_value=0, max_value=MINUTES_IN_RANGE - 1).map(
        lambda m: FIRST_MINUTE + timedelta(minutes=m)
    ),
    st.tuples(
        st.sampled_from(DST_SUNDAYS), st.integers(min_value=-3 * 24 * 60, max_value=24 * 60)
    ).map(lambda pair: pair[0] + timedelta(minutes=pair[1])),
)
durations = st.integers(min_value=0, max_value=40 * 60).map(lambda m: timedelta(minutes=m))


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year, categories=("public",)).keys())


def _local_spans(hours: OpeningHours, day: date) -> list[tuple[datetime, datetime]]:
    """The day's open spans as aware local wall-clock times, from the raw weekly hours.

    Holidays come from the ``holidays`` package directly, so this oracle does not
    share the code under test's holiday or closing-time logic.
    """
    if day in _public_holidays(hours.country, day.year) or day in hours.closed_dates:
        return []
    spans = []
    for start, end in hours.weekly[day.weekday()]:
        opens = datetime.combine(day, start, tzinfo=hours.zone)
        if end == time.max:
            closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=hours.zone)
        else:
            closes = datetime.combine(day, end, tzinfo=hours.zone)
        spans.append((opens, closes))
    return spans


def _open_or_closing(hours: OpeningHours, instant: datetime) -> bool:
    """Inside an open span, or exactly at a span's closing time."""
    local_day = instant.astimezone(hours.zone).date()
    for day in (local_day - timedelta(days=1), local_day):
        for opens, closes in _local_spans(hours, day):
            if opens <= instant <= closes:
                return True
    return False


class TestAddBusinessTimeProperties:
    @FAST
    @given(hours=centers(), start=starts, duration=durations)
    def test_any_start_and_duration_counts_back_to_the_duration(
        self, hours: OpeningHours, start: datetime, duration: timedelta
    ) -> None:
        due = add_business_time(hours, start, duration)
        assert due >= start
        assert business_time_between(hours, start, due) == duration

    @FAST
    @given(hours=centers(), start=starts, duration=durations)
    def test_any_due_time_is_open_or_a_closing_time(
        self, hours: OpeningHours, start: datetime, duration: timedelta
    ) -> None:
        due = add_business_time(hours, start, duration)
        assert _open_or_closing(hours, due), due.astimezone(hours.zone)

    @FAST
    @given(
        hours=centers(),
        start=starts,
        later_by=st.integers(min_value=0, max_value=7 * 24 * 60),
        duration=durations,
    )
    def test_later_start_never_gives_earlier_due_time(
        self, hours: OpeningHours, start: datetime, later_by: int, duration: timedelta
    ) -> None:
        later = start + timedelta(minutes=later_by)
        assert add_business_time(hours, later, duration) >= add_business_time(
            hours, start, duration
        )

    @FAST
    @given(hours=centers(), start=starts, duration=durations, more=durations)
    def test_longer_duration_never_gives_earlier_due_time(
        self, hours: OpeningHours, start: datetime, duration: timedelta, more: timedelta
    ) -> None:
        assert add_business_time(hours, start, duration + more) >= add_business_time(
            hours, start, duration
        )


class TestCloseOfBusinessDayProperties:
    @FAST
    @given(hours=centers(), start=starts)
    def test_any_instant_gives_a_closing_time_not_before_it(
        self, hours: OpeningHours, start: datetime
    ) -> None:
        closes = close_of_business_day(hours, start)
        assert closes >= start
        local_day = closes.astimezone(hours.zone).date()
        last_closes = [
            max(spans)[1]
            for day in (local_day - timedelta(days=1), local_day)
            if (spans := _local_spans(hours, day))
        ]
        assert closes in last_closes
        # ... and no business day's closing comes between the instant and it.
        start_day = start.astimezone(hours.zone).date()
        for day in (start_day - timedelta(days=1), start_day):
            if spans := _local_spans(hours, day):
                assert not start <= max(spans)[1] < closes


def oslo(
    hours: dict[str, list[str]] | None = None, closed_dates: list[str] | None = None
) -> OpeningHours:
    return OpeningHours.of(
        time_zone="Europe/Oslo",
        country="NO",
        business_hours=WEEKDAY_HOURS if hours is None else hours,
        closed_dates=closed_dates or [],
    )


def at(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


class TestDaylightSavingWeekends:
    def test_spring_forward_weekend_lands_monday_at_nine_summer_time(self) -> None:
        start = at("Europe/Oslo", 2026, 3, 27, 15, 0)  # Friday, +01:00
        due = add_business_time(oslo(), start, timedelta(hours=2))
        assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Monday 09:00 +02:00
        assert due.astimezone(ZoneInfo("Europe/Oslo")).utcoffset() == timedelta(hours=2)
        assert business_time_between(oslo(), start, due) == timedelta(hours=2)

    def test_fall_back_weekend_lands_monday_at_nine_winter_time(self) -> None:
        start = at("Europe/Oslo", 2026, 10, 23, 15, 0)  # Friday, +02:00
        due = add_business_time(oslo(), start, timedelta(hours=2))
        assert due == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # Monday 09:00 +01:00
        assert due.astimezone(ZoneInfo("Europe/Oslo")).utcoffset() == timedelta(hours=1)
        assert business_time_between(oslo(), start, due) == timedelta(hours=2)

    def test_open_through_spring_forward_night_counts_real_elapsed_time(self) -> None:
        hours = oslo({d: ["00:00-24:00"] for d in WEEKDAYS})
        start = at("Europe/Oslo", 2026, 3, 29, 0, 0)
        due = add_business_time(hours, start, timedelta(hours=4))
        assert due == start.astimezone(UTC) + timedelta(hours=4)  # the 02:00 hour never was
        assert due.astimezone(ZoneInfo("Europe/Oslo")).hour == 5


class TestHolidaysAndClosedDates:
    def test_danish_ascension_day_is_skipped(self) -> None:
        hours = OpeningHours.of(
            time_zone="Europe/Copenhagen",
            country="DK",
            business_hours=WEEKDAY_HOURS,
            closed_dates=[],
        )
        start = at("Europe/Copenhagen", 2026, 5, 13, 15, 0)  # Wednesday before 14 May
        due = add_business_time(hours, start, timedelta(hours=2))
        assert due == at("Europe/Copenhagen", 2026, 5, 15, 9, 0)

    def test_danish_christmas_days_are_skipped(self) -> None:
        hours = OpeningHours.of(
            time_zone="Europe/Copenhagen",
            country="DK",
            business_hours={d: ["08:00-16:00"] for d in WEEKDAYS},
            closed_dates=[],
        )
        start = at("Europe/Copenhagen", 2026, 12, 24, 15, 0)
        due = add_business_time(hours, start, timedelta(hours=2))
        assert due == at("Europe/Copenhagen", 2026, 12, 27, 9, 0)

    def test_center_closed_date_is_skipped(self) -> None:
        start = at("Europe/Oslo", 2026, 11, 18, 15, 0)  # Wednesday
        assert add_business_time(oslo(), start, timedelta(hours=2)) == at(
            "Europe/Oslo", 2026, 11, 19, 9, 0
        )
        closed = oslo(closed_dates=["2026-11-19"])
        assert add_business_time(closed, start, timedelta(hours=2)) == at(
            "Europe/Oslo", 2026, 11, 20, 9, 0
        )
        assert business_time_between(
            closed, start, at("Europe/Oslo", 2026, 11, 20, 16, 0)
        ) == timedelta(hours=9)


class TestClosingTimes:
    def test_due_exactly_at_closing_is_that_closing_time(self) -> None:
        start = at("Europe/Oslo", 2026, 11, 18, 14, 0)
        assert add_business_time(oslo(), start, timedelta(hours=2)) == at(
            "Europe/Oslo", 2026, 11, 18, 16, 0
        )

    def test_zero_duration_when_closed_is_the_next_opening(self) -> None:
        start = at("Europe/Oslo", 2026, 11, 18, 16, 0)
        assert add_business_time(oslo(), start, timedelta(0)) == at(
            "Europe/Oslo", 2026, 11, 19, 8, 0
        )

    def test_split_day_lunch_break_is_not_counted(self) -> None:
        hours = oslo({"wed": ["08:00-12:00", "13:00-17:00"]})
        start = at("Europe/Oslo", 2026, 11, 18, 11, 0)
        due = add_business_time(hours, start, timedelta(hours=2))
        assert due == at("Europe/Oslo", 2026, 11, 18, 14, 0)
        assert add_business_time(hours, start, timedelta(hours=1)) == at(
            "Europe/Oslo", 2026, 11, 18, 12, 0
        )

    def test_a_quarter_hour_a_week_reaches_a_due_time_more_than_a_year_ahead(self) -> None:
        # Found by hypothesis: the search once stopped after a year of days in total,
        # not after a year without any opening.
        hours = OpeningHours.of(
            time_zone="America/New_York",
            country="US",
            business_hours={"sun": ["00:00-00:15"]},
            closed_dates=[],
        )
        start = datetime(2026, 1, 1, tzinfo=UTC)
        due = add_business_time(hours, start, timedelta(minutes=856))
        assert due - start > timedelta(days=365)
        assert business_time_between(hours, start, due) == timedelta(minutes=856)

    def test_hours_too_sparse_for_the_target_are_refused_within_ten_years(self) -> None:
        hours = OpeningHours.of(
            time_zone="Europe/Oslo",
            country="NO",
            business_hours={"sun": ["00:00-00:15"]},
            closed_dates=[],
        )
        start = datetime(2026, 1, 1, tzinfo=UTC)
        with pytest.raises(NoOpeningHours, match="not enough within"):
            add_business_time(hours, start, timedelta(hours=400))  # 30 years of Sundays

    def test_negative_duration_is_refused(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            add_business_time(oslo(), at("Europe/Oslo", 2026, 11, 18, 10, 0), timedelta(-1))


class TestCloseOfBusinessDay:
    @pytest.mark.parametrize(
        ("local", "closes"),
        [
            ((2026, 11, 18, 10, 0), (2026, 11, 18, 16, 0)),  # during the day
            ((2026, 11, 18, 6, 0), (2026, 11, 18, 16, 0)),  # before opening
            ((2026, 11, 18, 16, 0), (2026, 11, 18, 16, 0)),  # exactly at closing
            ((2026, 11, 18, 17, 0), (2026, 11, 19, 16, 0)),  # after closing
            ((2026, 11, 21, 12, 0), (2026, 11, 23, 16, 0)),  # Saturday
            ((2026, 12, 23, 16, 30), (2026, 12, 28, 16, 0)),  # 24 closed, 25-26 holidays
        ],
    )
    def test_instant_gives_close_of_its_business_day(
        self, local: tuple[int, ...], closes: tuple[int, ...]
    ) -> None:
        hours = oslo(closed_dates=["2026-12-24"])
        assert close_of_business_day(hours, at("Europe/Oslo", *local)) == at("Europe/Oslo", *closes)

    def test_split_day_gives_the_last_closing(self) -> None:
        hours = oslo({"wed": ["08:00-12:00", "13:00-17:00"]})
        for hour in (9, 12, 13):
            assert close_of_business_day(hours, at("Europe/Oslo", 2026, 11, 18, hour, 0)) == at(
                "Europe/Oslo", 2026, 11, 18, 17, 0
            )

    def test_open_until_midnight_closes_at_midnight(self) -> None:
        hours = oslo({"wed": ["08:00-24:00"]})
        midnight = at("Europe/Oslo", 2026, 11, 19, 0, 0)
        assert close_of_business_day(hours, at("Europe/Oslo", 2026, 11, 18, 20, 0)) == midnight
        assert close_of_business_day(hours, midnight) == midnight
