"""Manager contacts on the visit (DESIGN §4): when they show, who, available now, the audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.audit.service import Actor
from direkte.clock import FixedClock
from direkte.network.hours import OpeningHours, public_holidays
from direkte.network.models import User
from direkte.network.service import load_network
from tests.factories import HOURS, login, network_doc, push_visit
from tests.visits.helpers import error_code, events

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


See = Callable[..., list[Any]]


@pytest.fixture
def see(client: TestClient) -> See:
    """The visit's contacts as a user sees them now (ola by default).

    Logs in at the test clock's time each call, also when that is past the wall clock.
    """

    def contacts(visit_id: int, email: str = "ola@example.no") -> list[Any]:
        response = client.get(f"/api/v1/visits/{visit_id}", headers=login(client, email))
        assert response.status_code == 200, response.text
        found: list[Any] = response.json()["escalation_contacts"]
        return found

    return contacts


def names(found: list[Any]) -> list[tuple[str, str]]:
    return [(c["role"], c["name"]) for c in found]


def visit_at(
    client: TestClient, key: str, clock: FixedClock, at: datetime, **overrides: Any
) -> int:
    """A visit checked in an hour before ``at``, with the clock set to ``at``."""
    clock.at = at
    checked_in = (at - timedelta(hours=1)).isoformat()
    return push_visit(client, key, checked_in_at=checked_in, **overrides)


def reload_network(session: Session, clock: FixedClock, **overrides: Any) -> None:
    load_network(session, clock, raw=network_doc(**overrides), actor=Actor.system("test"))
    session.commit()


def staff_with(email: str, **changes: Any) -> list[dict[str, Any]]:
    return [{**s, **changes} if s["email"] == email else s for s in network_doc()["staff"]]


def centers_with(code: str, **changes: Any) -> list[dict[str, Any]]:
    return [{**c, **changes} if c["code"] == code else c for c in network_doc()["centers"]]


class TestWhenContactsShow:
    def test_checked_in_at_a_pilot_center_shows_both_managers(
        self, client: TestClient, key: str, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        assert names(see(visit_id)) == [
            ("local_manager", "Kari Nordmann"),
            ("regional_manager", "Lars Berg"),
        ]

    def test_center_with_program_on_shows_its_managers(
        self, client: TestClient, key: str, see: See
    ) -> None:
        visit_id = push_visit(client, key, center="CPH-01", customer_email="mads@example.dk")
        found = see(visit_id, "mads@example.dk")
        assert names(found) == [
            ("local_manager", "Mette Jensen"),
            ("regional_manager", "Dorte Dansk"),
        ]

    def test_program_off_shows_none_and_reveals_nothing(
        self, client: TestClient, key: str, session: Session, see: See
    ) -> None:
        visit_id = push_visit(client, key, center="OSL-02")
        assert see(visit_id) == []
        assert events(session, "contact.revealed") == []

    def test_program_turned_off_hides_them(
        self, client: TestClient, key: str, session: Session, clock: FixedClock, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        reload_network(session, clock, centers=centers_with("OSL-01", program="off"))
        assert see(visit_id) == []

    def test_scheduled_visit_shows_none_until_check_in(
        self, client: TestClient, key: str, session: Session, see: See
    ) -> None:
        visit_id = push_visit(client, key, status="scheduled", checked_in_at=None)
        assert see(visit_id) == []
        assert events(session, "contact.revealed") == []
        push_visit(client, key, status="checked_in", checked_in_at=None)
        assert len(see(visit_id)) == 2

    def test_scheduled_visit_with_a_check_in_time_still_shows_none(
        self, client: TestClient, key: str, see: See
    ) -> None:
        visit_id = push_visit(client, key, status="scheduled")
        assert see(visit_id) == []

    def test_cancelled_visit_shows_none(self, client: TestClient, key: str, see: See) -> None:
        visit_id = push_visit(client, key)
        push_visit(client, key, status="cancelled")
        assert see(visit_id) == []

    def test_check_in_in_the_future_shows_none_until_then(
        self, client: TestClient, key: str, clock: FixedClock, see: See
    ) -> None:
        visit_id = push_visit(client, key, checked_in_at="2026-11-18T12:00:00+00:00")
        assert see(visit_id) == []
        clock.at = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
        assert len(see(visit_id)) == 2

    @pytest.mark.parametrize("status", ["diagnosing", "awaiting_approval", "in_repair", "ready"])
    def test_every_open_status_after_check_in_shows_them(
        self, client: TestClient, key: str, status: str, see: See
    ) -> None:
        visit_id = push_visit(client, key, status=status)
        assert len(see(visit_id)) == 2

    def test_closed_visit_shows_them_for_14_days_after_closing(
        self, client: TestClient, key: str, clock: FixedClock, session: Session, see: See
    ) -> None:
        closed_at = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
        visit_id = push_visit(client, key, status="closed", closed_at=closed_at.isoformat())
        assert len(see(visit_id)) == 2
        clock.at = closed_at + timedelta(days=14)
        assert len(see(visit_id)) == 2
        clock.at = closed_at + timedelta(days=14, seconds=1)
        assert see(visit_id) == []
        clock.at = closed_at + timedelta(days=60)
        assert see(visit_id) == []
        assert len(events(session, "contact.revealed", visit_id)) == 4

    def test_window_runs_from_when_it_was_closed(
        self, client: TestClient, key: str, clock: FixedClock, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        clock.advance(timedelta(days=3))
        push_visit(client, key, status="closed")
        clock.advance(timedelta(days=13, hours=23))
        assert len(see(visit_id)) == 2
        clock.advance(timedelta(hours=2))
        assert see(visit_id) == []


class TestWhoIsShown:
    def test_on_duty_local_manager_is_shown(self, client: TestClient, key: str, see: See) -> None:
        found = see(push_visit(client, key))
        assert found[0]["name"] == "Kari Nordmann"
        assert found[0]["title"] == "Service Manager"
        assert found[0]["languages"] == ["nb", "en"]
        assert found[0]["phone"] == "+4791234567"

    def test_deputy_is_shown_when_the_manager_is_off_duty(
        self, client: TestClient, key: str, session: Session, clock: FixedClock, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        reload_network(session, clock, staff=staff_with("kari@example.no", on_duty=False))
        found = see(visit_id)
        assert names(found) == [
            ("local_manager", "Per Deputy"),
            ("regional_manager", "Lars Berg"),
        ]
        assert found[0]["phone"] == "+4791234568"

    def test_other_manager_on_duty_is_shown_over_the_deputy_rule(
        self, client: TestClient, key: str, session: Session, clock: FixedClock, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        staff = [
            {**s, "on_duty": s["email"] == "per@example.no"}
            if s["role"] == "local_manager" and s.get("center") == "OSL-01"
            else s
            for s in network_doc()["staff"]
        ]
        reload_network(session, clock, staff=staff)
        assert see(visit_id)[0]["name"] == "Per Deputy"

    def test_staff_without_a_phone_is_reachable_by_message_only(
        self, client: TestClient, key: str, see: See
    ) -> None:
        visit_id = push_visit(client, key, center="CPH-01", customer_email="mads@example.dk")
        found = see(visit_id, "mads@example.dk")
        assert [(c["channels"], c["phone"]) for c in found] == [
            (["message"], None),
            (["message"], None),
        ]

    def test_staff_with_a_phone_is_reachable_both_ways(
        self, client: TestClient, key: str, see: See
    ) -> None:
        found = see(push_visit(client, key))
        assert [c["channels"] for c in found] == [["message", "phone"], ["message", "phone"]]

    def test_contact_carries_the_centers_hours(
        self, client: TestClient, key: str, see: See
    ) -> None:
        found = see(push_visit(client, key))
        assert found[0]["business_hours"]["fri"] == ["08:00-15:00"]
        assert "sat" not in found[0]["business_hours"]
        assert found[0]["time_zone"] == "Europe/Oslo"


class TestAvailableNow:
    @pytest.mark.parametrize(
        ("at", "expected"),
        [
            pytest.param(utc(2026, 11, 18, 9, 0), True, id="wednesday-10:00"),
            pytest.param(utc(2026, 11, 18, 14, 59), True, id="wednesday-15:59"),
            pytest.param(utc(2026, 11, 18, 15, 0), False, id="wednesday-16:00-closes"),
            pytest.param(utc(2026, 11, 18, 20, 0), False, id="wednesday-night"),
            pytest.param(utc(2026, 11, 19, 2, 0), False, id="thursday-03:00"),
            pytest.param(utc(2026, 11, 20, 14, 30), False, id="friday-15:30-closed"),
            pytest.param(utc(2026, 11, 19, 14, 30), True, id="thursday-15:30-open"),
            pytest.param(utc(2026, 11, 21, 10, 0), False, id="saturday"),
            pytest.param(utc(2026, 11, 22, 10, 0), False, id="sunday"),
            pytest.param(utc(2026, 12, 25, 10, 0), False, id="christmas-day"),
            pytest.param(utc(2026, 12, 24, 10, 0), False, id="closed-date"),
            pytest.param(utc(2026, 12, 17, 10, 0), True, id="a-week-before"),
            pytest.param(utc(2026, 5, 14, 8, 0), False, id="ascension-day"),
            pytest.param(utc(2027, 5, 17, 8, 0), False, id="17-may"),
            pytest.param(utc(2027, 5, 18, 8, 0), True, id="18-may"),
            pytest.param(utc(2026, 3, 30, 7, 30), True, id="summer-time-09:30"),
            pytest.param(utc(2026, 3, 30, 6, 30), True, id="summer-time-08:30"),
            pytest.param(utc(2026, 3, 30, 5, 30), False, id="summer-time-07:30"),
            pytest.param(utc(2026, 3, 30, 14, 30), False, id="summer-time-16:30"),
            pytest.param(utc(2026, 11, 23, 6, 30), False, id="winter-time-07:30"),
            pytest.param(utc(2026, 11, 23, 7, 30), True, id="winter-time-08:30"),
            pytest.param(utc(2026, 11, 23, 14, 30), True, id="winter-time-15:30"),
        ],
    )
    def test_follows_local_hours_holidays_and_closed_dates(
        self,
        client: TestClient,
        key: str,
        clock: FixedClock,
        at: datetime,
        expected: bool,
        see: See,
    ) -> None:
        visit_id = visit_at(client, key, clock, at)
        found = see(visit_id)
        assert len(found) == 2
        assert [c["available_now"] for c in found] == [expected, expected]

    def test_closed_date_added_by_a_reload_closes_the_day(
        self, client: TestClient, key: str, session: Session, clock: FixedClock, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        assert see(visit_id)[0]["available_now"] is True
        reload_network(session, clock, centers=centers_with("OSL-01", closed_dates=["2026-11-18"]))
        assert see(visit_id)[0]["available_now"] is False

    def test_danish_center_uses_danish_time_and_holidays(
        self, client: TestClient, key: str, clock: FixedClock, see: See
    ) -> None:
        mads = {"center": "CPH-01", "customer_email": "mads@example.dk"}
        # Easter Monday 2026 is a holiday in Denmark.
        visit_id = visit_at(client, key, clock, datetime(2026, 4, 6, 9, 0, tzinfo=UTC), **mads)
        assert see(visit_id, "mads@example.dk")[0]["available_now"] is False
        clock.at = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
        assert see(visit_id, "mads@example.dk")[0]["available_now"] is True


class TestRevealAudit:
    def test_each_contact_shown_is_one_event_naming_viewer_visit_and_contact(
        self, client: TestClient, key: str, session: Session, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        see(visit_id)
        reveals = events(session, "contact.revealed")
        ids = dict(session.execute(sa.select(User.email, User.id)).all())
        assert len(reveals) == 2
        assert {(e.actor_kind, e.actor_id, e.actor_label) for e in reveals} == {
            ("user", ids["ola@example.no"], "ola@example.no")
        }
        assert {e.visit_id for e in reveals} == {visit_id}
        assert {e.occurred_at for e in reveals} == {T0}
        assert sorted((e.subject_kind, e.subject_id) for e in reveals) == sorted(
            [("user", ids["kari@example.no"]), ("user", ids["lars@example.no"])]
        )
        assert sorted((e.data["role"], e.data["staff_email"]) for e in reveals) == [
            ("local_manager", "kari@example.no"),
            ("regional_manager", "lars@example.no"),
        ]

    def test_every_view_is_recorded_again(
        self, client: TestClient, key: str, session: Session, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        see(visit_id)
        see(visit_id)
        assert len(events(session, "contact.revealed", visit_id)) == 4

    def test_staff_viewer_is_the_actor(
        self, client: TestClient, key: str, session: Session, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        see(visit_id, "siv@example.no")
        assert {e.actor_label for e in events(session, "contact.revealed", visit_id)} == {
            "siv@example.no"
        }

    def test_deputy_reveal_names_the_deputy(
        self, client: TestClient, key: str, session: Session, clock: FixedClock, see: See
    ) -> None:
        visit_id = push_visit(client, key)
        reload_network(session, clock, staff=staff_with("kari@example.no", on_duty=False))
        see(visit_id)
        assert {e.data["staff_email"] for e in events(session, "contact.revealed", visit_id)} == {
            "per@example.no",
            "lars@example.no",
        }

    def test_hidden_visit_reveals_nothing(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = push_visit(client, key)
        response = client.get(f"/api/v1/visits/{visit_id}", headers=login(client, "eva@example.no"))
        assert response.status_code == 404
        assert error_code(response) == "visit_not_found"
        assert events(session, "contact.revealed") == []


def oslo(**overrides: Any) -> OpeningHours:
    args: dict[str, Any] = {
        "time_zone": "Europe/Oslo",
        "country": "NO",
        "business_hours": HOURS,
        "closed_dates": ["2026-12-24"],
    }
    args.update(overrides)
    return OpeningHours.of(**args)


class TestOpeningHours:
    @pytest.mark.parametrize(
        ("instant", "expected"),
        [
            (utc(2026, 11, 18, 7, 0), True),  # 08:00 local, opening minute
            (utc(2026, 11, 18, 6, 59), False),
            (utc(2026, 11, 18, 14, 59, 59), True),
            (utc(2026, 11, 18, 15, 0), False),  # 16:00 local, closed
            (utc(2026, 11, 20, 13, 59), True),  # Friday 14:59
            (utc(2026, 11, 20, 14, 0), False),  # Friday 15:00
            (utc(2026, 11, 21, 10, 0), False),  # Saturday
            (utc(2026, 11, 22, 10, 0), False),  # Sunday
        ],
    )
    def test_is_open_at_follows_the_weekly_hours(self, instant: datetime, expected: bool) -> None:
        assert oslo().is_open_at(instant) is expected

    def test_any_offset_names_the_same_instant(self) -> None:
        hours = oslo()
        in_new_york = datetime.fromisoformat("2026-11-18T02:30:00-05:00")  # 08:30 Oslo
        assert hours.is_open_at(in_new_york) is True

    @pytest.mark.parametrize(
        "day",
        [
            date(2026, 12, 25),
            date(2026, 12, 26),
            date(2026, 4, 6),
            date(2026, 5, 14),
            date(2027, 5, 17),
        ],
    )
    def test_public_holidays_are_closed(self, day: date) -> None:
        hours = oslo(
            business_hours={d: ["00:00-24:00"] for d in HOURS}
            | {
                "sat": ["00:00-24:00"],
                "sun": ["00:00-24:00"],
            }
        )
        noon = datetime.combine(day, time(12), tzinfo=UTC)
        assert hours.is_open_day(day) is False
        assert hours.intervals_on(day) == ()
        assert hours.is_open_at(noon) is False
        assert hours.is_open_at(noon - timedelta(days=7)) is True

    def test_closed_date_is_closed_and_the_day_before_open(self) -> None:
        hours = oslo()
        assert hours.is_open_at(utc(2026, 12, 24, 10, 0)) is False
        assert hours.is_open_at(utc(2026, 12, 23, 10, 0)) is True

    def test_closed_dates_accept_dates_and_text(self) -> None:
        hours = oslo(closed_dates=[date(2026, 11, 18), "2026-11-19"])
        assert hours.is_open_at(utc(2026, 11, 18, 10, 0)) is False
        assert hours.is_open_at(utc(2026, 11, 19, 10, 0)) is False
        assert hours.is_open_at(utc(2026, 11, 17, 10, 0)) is True

    @pytest.mark.parametrize(
        ("instant", "expected"),
        [
            # Summer time from Sunday 29 March 2026: Oslo is UTC+2.
            (utc(2026, 3, 27, 6, 30), False),  # Friday before: 07:30 CET
            (utc(2026, 3, 30, 6, 30), True),  # Monday after: 08:30 CEST
            (utc(2026, 3, 30, 5, 59), False),  # 07:59 CEST
            (utc(2026, 3, 30, 13, 59), True),  # 15:59 CEST
            (utc(2026, 3, 30, 14, 0), False),  # 16:00 CEST
            # Winter time from Sunday 25 October 2026: UTC+1 again.
            (utc(2026, 10, 23, 14, 30), False),  # Friday before: 16:30 CEST
            (utc(2026, 10, 26, 6, 30), False),  # Monday after: 07:30 CET
            (utc(2026, 10, 26, 7, 0), True),  # 08:00 CET
            (utc(2026, 10, 26, 14, 30), True),  # 15:30 CET
        ],
    )
    def test_local_time_follows_daylight_saving(self, instant: datetime, expected: bool) -> None:
        assert oslo().is_open_at(instant) is expected

    def test_interval_to_midnight_includes_the_last_minute(self) -> None:
        hours = oslo(business_hours={"wed": ["18:00-24:00"]})
        assert hours.is_open_at(utc(2026, 11, 18, 22, 59, 59)) is True  # 23:59:59 local
        assert hours.is_open_at(utc(2026, 11, 18, 23, 0)) is False  # Thursday 00:00
        assert hours.is_open_at(utc(2026, 11, 18, 16, 59)) is False  # 17:59 local

    def test_split_day_is_closed_over_lunch(self) -> None:
        hours = oslo(business_hours={"wed": ["13:00-17:00", "08:00-11:30"]})
        assert hours.intervals_on(date(2026, 11, 18)) == (
            (time(8, 0), time(11, 30)),
            (time(13, 0), time(17, 0)),
        )
        assert hours.is_open_at(utc(2026, 11, 18, 10, 0)) is True  # 11:00
        assert hours.is_open_at(utc(2026, 11, 18, 11, 0)) is False  # 12:00
        assert hours.is_open_at(utc(2026, 11, 18, 12, 0)) is True  # 13:00

    def test_no_hours_is_never_open(self) -> None:
        hours = oslo(business_hours={})
        assert not any(
            hours.is_open_at(utc(2026, 11, 16, 0, 0) + timedelta(hours=h)) for h in range(24 * 7)
        )

    def test_other_zone_and_country(self) -> None:
        hours = OpeningHours.of(
            time_zone="America/New_York",
            country="US",
            business_hours={"fri": ["09:00-17:00"], "thu": ["09:00-17:00"]},
            closed_dates=[],
        )
        assert hours.is_open_at(utc(2026, 11, 20, 14, 0)) is True  # Friday 09:00 EST
        assert hours.is_open_at(utc(2026, 11, 20, 13, 59)) is False
        assert hours.is_open_at(utc(2026, 11, 26, 15, 0)) is False  # Thanksgiving

    def test_public_holidays_of_norway(self) -> None:
        days = public_holidays("NO", 2026)
        assert {date(2026, 5, 17), date(2026, 12, 25), date(2026, 4, 6)} <= days
        assert date(2026, 12, 24) not in days
        assert date(2026, 11, 18) not in days

    def test_unknown_country_has_no_holidays(self) -> None:
        assert public_holidays("ZZ", 2026) == frozenset()
