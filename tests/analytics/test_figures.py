"""`GET /api/v1/metrics`: every §7 figure pinned on small hand-made histories, in the
centers' local calendars and business time, read from the worker's daily roll-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.analytics import rollups
from direkte.analytics.models import CenterDayFigures
from direkte.analytics.service import refresh_dirty
from direkte.clock import FixedClock
from direkte.network.models import Center, CenterProgramChange, Program
from tests.escalations.conftest import World
from tests.factories import make_api_key, make_network, make_vin

OSLO = "+01:00"


@pytest.fixture
def world(client: TestClient, session: Session, clock: FixedClock) -> World:
    make_network(session, clock)
    return World(client=client, key=make_api_key(session, clock), clock=clock)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def push(world: World, external_id: str, vin_seed: int, **fields: Any) -> int:
    body = {"vehicle": _vehicle(vin_seed), **fields}
    return world.visit(external_id, **body)


def _vehicle(seed: int, model: str = "Model 3") -> dict[str, Any]:
    return {
        "vin": make_vin(seed),
        "model": model,
        "model_year": 2021,
        "odometer_km": 42000,
        "delivery_date": "2021-03-01",
    }


def diagnose(world: World, external_id: str, codes: list[str]) -> int:
    response = world.client.post(
        f"/api/v1/integration/visits/{external_id}/diagnoses",
        json={"findings": "Pads worn", "codes": codes, "safety_related": True},
        headers={"X-API-Key": world.key},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def refresh(session: Session, clock: FixedClock) -> int:
    handled = refresh_dirty(session, now=clock.now())
    session.flush()
    return handled


def metrics(world: World, email: str = "ops@example.no", **params: Any) -> Any:
    response = world.client.get("/api/v1/metrics", params=params, headers=world.as_(email))
    assert response.status_code == 200, response.text
    return response.json()


def build_wednesday(world: World, session: Session, clock: FixedClock) -> dict[str, int]:
    """OSL-01 (pilot; two local managers) on Wednesday 2026-11-18, Oslo time:

    - RO-1 checked in 08:05, ready 14:00: resolved the same day;
    - RO-2 checked in 09:00, ready Thursday 10:00: not;
    - RO-3 checked in 10:00, ready 15:00, but Ola escalated it at 11:00 and the case
      was still open at midnight (acknowledged Thursday 09:00, resolved `revised`
      Thursday 10:30, rated 5): not;
    - RO-4 checked in 11:00, still in repair: not.
    Every visit was booked on 2026-11-10 for the 18th (8 days); RO-3 and RO-4 are one
    vehicle (three distinct vehicles).
    """
    common = {"booked_at": "2026-11-10T12:00:00+01:00", "appointment_date": "2026-11-18"}
    push(
        world,
        "RO-1",
        1,
        status="ready",
        checked_in_at="2026-11-18T08:05:00" + OSLO,
        ready_at="2026-11-18T14:00:00" + OSLO,
        **common,
    )
    push(
        world,
        "RO-2",
        2,
        status="ready",
        checked_in_at="2026-11-18T09:00:00" + OSLO,
        ready_at="2026-11-19T10:00:00" + OSLO,
        **common,
    )
    ro3 = push(
        world, "RO-3", 3, status="checked_in", checked_in_at="2026-11-18T10:00:00" + OSLO, **common
    )
    push(world, "RO-4", 3, status="in_repair", checked_in_at="2026-11-18T11:00:00" + OSLO, **common)
    subject = diagnose(world, "RO-3", ["C1101", "P0A80"])
    return {"ro3": ro3, "subject": subject}


def _set(clock: FixedClock, text: str) -> None:
    clock.advance(at(text) - clock.now())


@pytest.fixture
def wednesday(world: World, session: Session, clock: FixedClock) -> dict[str, int]:
    _set(clock, "2026-11-18T08:00:00" + OSLO)
    ids = build_wednesday(world, session, clock)
    _set(clock, "2026-11-18T11:00:00" + OSLO)
    response = world.escalate(ids["ro3"], ids["subject"])
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["tier"] == 1
    ids["case"] = int(case["id"])
    _set(clock, "2026-11-18T15:00:00" + OSLO)
    world.visit(
        "RO-3",
        vehicle=_vehicle(3),
        status="ready",
        checked_in_at="2026-11-18T10:00:00" + OSLO,
        ready_at="2026-11-18T15:00:00" + OSLO,
        booked_at="2026-11-10T12:00:00+01:00",
        appointment_date="2026-11-18",
    )
    _set(clock, "2026-11-19T09:00:00" + OSLO)
    assert world.act(ids["case"], "acknowledge", "kari@example.no").status_code == 200
    _set(clock, "2026-11-19T10:30:00" + OSLO)
    version = world.get(ids["case"], "kari@example.no").json()["version"]
    resolved = world.act(
        ids["case"],
        "resolve",
        "kari@example.no",
        {
            "outcome": "revised",
            "amount_delta": "0",
            "note": "New pads on us",
            "version": version,
        },
    )
    assert resolved.status_code == 200, resolved.text
    _set(clock, "2026-11-19T12:00:00" + OSLO)
    rated = world.client.post(
        f"/api/v1/escalations/{ids['case']}/rating",
        json={"score": 5},
        headers=world.as_("ola@example.no"),
    )
    assert rated.status_code == 201, rated.text
    _set(clock, "2026-11-20T09:00:00" + OSLO)
    assert refresh(session, clock) > 0
    return ids


class TestWednesday:
    def test_every_figure(self, world: World, wednesday: dict[str, int]) -> None:
        m = metrics(world, **{"from": "2026-11-18", "to": "2026-11-19", "center": "OSL-01"})
        assert m["from"] == "2026-11-18"
        assert m["to"] == "2026-11-19"
        assert m["visits_checked_in"] == 4
        assert m["same_day_resolution"] == {
            "count": 1,
            "of": 4,
            "rate": 0.25,
            "target": pytest.approx(2 / 3),
        }
        assert m["requests"] == {
            "total": 1,
            "by_category": {"diagnosis": 1, "warranty": 0, "estimate": 0},
            "by_decision": {"route": 1, "reject": 0, "moderate": 0},
            "reached_managers": 1,
        }
        assert m["escalation_rate_per_100"] == 25.0
        assert m["escalation_rate_per_100_by_category"]["diagnosis"] == 25.0
        assert m["reach_rate"] == 1.0
        assert m["resolved"] == 1
        assert m["overturned"] == 1
        assert m["overturn_rate"] == 1.0
        # 11:00-16:00 Wednesday, 08:00-09:00 Thursday; then on to 10:30
        assert m["first_response_business_minutes"] == {"count": 1, "p50": 360, "p90": 360}
        assert m["resolution_business_minutes"] == {"count": 1, "p50": 450, "p90": 450}
        # tier 1: first response within 2 business hours (by 13:00 Wednesday): missed
        assert m["sla_met_rate"] == 0.0
        assert m["satisfaction"] == {"count": 1, "mean": 5.0, "share_4_5": 1.0}
        assert m["access"] == {"booking_to_appointment_days_p50": 8, "vehicles_per_center": 3.0}
        # one case reached a manager; two local managers on two business days
        assert m["manager_load"] == {
            "cases": 1,
            "manager_business_days": 4,
            "per_manager_per_business_day": 0.25,
        }
        assert m["root_causes"]["by_diagnosis_code"] == [
            {"key": "C1101", "count": 1, "resolved": 1, "rate": 1.0},
            {"key": "P0A80", "count": 1, "resolved": 1, "rate": 1.0},
        ]
        assert m["root_causes"]["by_model"] == [{"key": "Model 3", "count": 1}]
        assert m["root_causes"]["by_center"] == [{"key": "OSL-01", "count": 1}]

    def test_days_split_by_local_day(self, world: World, wednesday: dict[str, int]) -> None:
        wed = metrics(world, **{"from": "2026-11-18", "to": "2026-11-18"})
        thu = metrics(world, **{"from": "2026-11-19", "to": "2026-11-19"})
        assert (wed["visits_checked_in"], wed["requests"]["total"], wed["resolved"]) == (4, 1, 0)
        assert (thu["visits_checked_in"], thu["resolved"], thu["satisfaction"]["count"]) == (
            0,
            1,
            1,
        )
        assert wed["same_day_resolution"]["rate"] == 0.25
        assert thu["same_day_resolution"]["rate"] is None  # nothing checked in: no rate

    def test_group_by_center_region_week(self, world: World, wednesday: dict[str, int]) -> None:
        params = {"from": "2026-11-16", "to": "2026-11-22"}
        by_center = metrics(world, group_by="center", **params)["groups"]
        assert [(g["key"], g["visits_checked_in"]) for g in by_center] == [
            ("CPH-01", 0),
            ("OSL-01", 4),
            ("OSL-02", 0),
        ]
        by_region = metrics(world, group_by="region", **params)["groups"]
        assert [(g["key"], g["requests"]["total"]) for g in by_region] == [
            ("DK", 0),
            ("NO-EAST", 1),
        ]
        by_week = metrics(world, group_by="week", **params)["groups"]
        assert [(g["key"], g["same_day_resolution"]["count"]) for g in by_week] == [
            ("2026-11-16", 1)
        ]

    def test_program_filter_reads_the_state_of_each_day(
        self, world: World, wednesday: dict[str, int], session: Session, clock: FixedClock
    ) -> None:
        params = {"from": "2026-11-18", "to": "2026-11-19"}
        assert metrics(world, program="pilot", **params)["visits_checked_in"] == 4
        assert metrics(world, program="off", **params)["visits_checked_in"] == 0
        # OSL-01 moves to `on` on Thursday: Wednesday stays pilot, Thursday is `on`
        from direkte.network.service import record_program_change

        center = session.query(Center).filter_by(code="OSL-01").one()
        record_program_change(
            session,
            center,
            center.program.__class__("on"),
            at=at("2026-11-19T12:00:00" + OSLO),
            actor="test",
        )
        session.flush()
        pilot = metrics(world, program="pilot", **params)
        on = metrics(world, program="on", **params)
        assert (pilot["visits_checked_in"], pilot["resolved"]) == (4, 0)
        assert (on["visits_checked_in"], on["resolved"]) == (0, 1)

    def test_roll_up_equals_direct_computation_after_a_late_change(
        self, world: World, wednesday: dict[str, int], session: Session, clock: FixedClock
    ) -> None:
        params = {"from": "2026-11-18", "to": "2026-11-19", "center": "OSL-01"}
        before = metrics(world, **params)
        # the dealer system backfills: RO-2 was ready on Wednesday after all
        world.visit(
            "RO-2",
            vehicle=_vehicle(2),
            status="ready",
            checked_in_at="2026-11-18T09:00:00" + OSLO,
            ready_at="2026-11-18T15:30:00" + OSLO,
            booked_at="2026-11-10T12:00:00+01:00",
            appointment_date="2026-11-18",
        )
        assert metrics(world, **params) == before  # not yet rolled up
        assert refresh(session, clock) >= 1
        after = metrics(world, **params)
        assert after["same_day_resolution"]["count"] == 2
        assert refresh(session, clock) == 0  # the marks are gone
        # the same numbers as every day recomputed from scratch
        session.execute(sa.delete(CenterDayFigures))
        rollups.rebuild(session, first=date(2026, 11, 18), last=date(2026, 11, 19), now=clock.now())
        session.flush()
        assert metrics(world, **params) == after


class TestCalendars:
    def test_dst_day_has_25_hours(self, world: World, session: Session, clock: FixedClock) -> None:
        """Sunday 2026-10-25 in Oslo runs from 22:00 UTC on the 24th to 23:00 UTC on the
        25th; a visit in at 00:30 and ready at 23:30 local is resolved the same day."""
        _set(clock, "2026-10-26T12:00:00+00:00")
        push(
            world,
            "DST-1",
            1,
            status="ready",
            checked_in_at="2026-10-24T22:30:00+00:00",
            ready_at="2026-10-25T22:30:00+00:00",
        )
        push(world, "DST-2", 2, status="checked_in", checked_in_at="2026-10-24T21:30:00+00:00")
        push(world, "DST-3", 3, status="checked_in", checked_in_at="2026-10-25T23:05:00+00:00")
        refresh(session, clock)
        days = {
            d: metrics(world, **{"from": d, "to": d})["visits_checked_in"]
            for d in ("2026-10-24", "2026-10-25", "2026-10-26")
        }
        assert days == {"2026-10-24": 1, "2026-10-25": 1, "2026-10-26": 1}
        sunday = metrics(world, **{"from": "2026-10-25", "to": "2026-10-25"})
        assert sunday["same_day_resolution"]["count"] == 1

    def test_evening_before_a_holiday(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        """OSL-01 is closed on 24 December and Norway's Christmas Day and Boxing Day are
        public holidays: a visit checked in at 23:50 on the 24th and ready on the 25th is
        the 24th's and not resolved that day; one checked in at 00:10 on the 25th (still
        the 24th in UTC) is the 25th's. A case opened 15:30 on the 23rd and first
        answered 08:30 on Monday the 28th took one business hour."""
        _set(clock, "2026-12-23T09:00:00" + OSLO)
        x0 = push(
            world,
            "X-0",
            9,
            status="checked_in",
            customer_email="eva@example.no",
            checked_in_at="2026-12-23T09:00:00" + OSLO,
        )
        subject = diagnose(world, "X-0", ["B1000"])
        _set(clock, "2026-12-23T15:30:00" + OSLO)
        response = world.escalate(x0, subject, email="eva@example.no")
        assert response.status_code == 201, response.text
        push(
            world,
            "X-1",
            1,
            status="ready",
            checked_in_at="2026-12-24T23:50:00" + OSLO,
            ready_at="2026-12-25T08:10:00" + OSLO,
        )
        push(
            world,
            "X-2",
            2,
            status="ready",
            checked_in_at="2026-12-25T00:10:00" + OSLO,
            ready_at="2026-12-25T10:00:00" + OSLO,
        )
        _set(clock, "2026-12-28T08:30:00" + OSLO)
        case_id = int(response.json()["id"])
        assert world.act(case_id, "acknowledge", "kari@example.no").status_code == 200
        refresh(session, clock)
        eve = metrics(world, **{"from": "2026-12-24", "to": "2026-12-24"})
        day = metrics(world, **{"from": "2026-12-25", "to": "2026-12-25"})
        assert eve["same_day_resolution"] == {
            "count": 0,
            "of": 1,
            "rate": 0.0,
            "target": pytest.approx(2 / 3),
        }
        assert day["same_day_resolution"]["count"] == 1
        monday = metrics(world, **{"from": "2026-12-28", "to": "2026-12-28"})
        assert monday["first_response_business_minutes"] == {"count": 1, "p50": 60, "p90": 60}
        # the week's manager load counts business days only (Mon, Tue, Wed: 2 managers)
        week = metrics(world, **{"from": "2026-12-21", "to": "2026-12-27", "center": "OSL-01"})
        assert week["manager_load"]["manager_business_days"] == 2 * 3


class TestAccessAndValidation:
    def test_staff_read_their_own_center_or_region(self, world: World) -> None:
        get = world.client.get
        siv = world.as_("siv@example.no")
        assert get("/api/v1/metrics", headers=siv).status_code == 200
        assert get("/api/v1/metrics", params={"center": "OSL-01"}, headers=siv).status_code == 200
        refused = get("/api/v1/metrics", params={"center": "CPH-01"}, headers=siv)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "figures_out_of_scope"
        lars = world.as_("lars@example.no")
        assert get("/api/v1/metrics", params={"region": "NO-EAST"}, headers=lars).status_code == 200
        assert get("/api/v1/metrics", params={"center": "OSL-02"}, headers=lars).status_code == 200
        assert get("/api/v1/metrics", params={"region": "DK"}, headers=lars).status_code == 403
        ola = get("/api/v1/metrics", headers=world.as_("ola@example.no"))
        assert (ola.status_code, ola.json()["error"]["code"]) == (403, "staff_only")
        ops = world.as_("ops@example.no")
        assert get("/api/v1/metrics", params={"region": "DK"}, headers=ops).status_code == 200

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from": "2026-11-10", "to": "2026-11-01"}, "to"),
            ({"from": "2016-01-01", "to": "2026-01-01"}, "from"),
            ({"center": "NOPE-01"}, "center"),
            ({"region": "NOWHERE"}, "region"),
            ({"group_by": "year"}, "group_by"),
            ({"program": "maybe"}, "program"),
            ({"from": "2026-13-01"}, "from"),
        ],
    )
    def test_bad_input_names_the_field(
        self, world: World, params: dict[str, str], field: str
    ) -> None:
        response = world.client.get(
            "/api/v1/metrics", params=params, headers=world.as_("ops@example.no")
        )
        assert response.status_code == 422, response.text
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_empty_window_has_null_rates(world: World) -> None:
    m = metrics(world, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert m["visits_checked_in"] == 0
    assert m["same_day_resolution"]["rate"] is None
    assert m["escalation_rate_per_100"] is None
    assert m["first_response_business_minutes"]["p50"] is None
    assert m["groups"] == []


def test_window_default_is_the_last_28_days(world: World, clock: FixedClock) -> None:
    m = metrics(world)
    today = clock.now().date()
    assert m["to"] == (today - timedelta(days=1)).isoformat()
    assert m["from"] == (today - timedelta(days=28)).isoformat()


class TestWholeWeeks:
    """A read sums the whole Monday-weeks of its window from the week buckets and the
    days at its edges from the day buckets: the histograms come out the same as from
    the days alone, also after a late change and within a program's days."""

    # check-in day -> days from booking to appointment (OSL-01; 2026-11-02, -09 and
    # -16 are Mondays)
    LEADS = {
        "2026-10-31": 1,  # before the window
        "2026-11-01": 20,  # the window's first day, a Sunday: an edge
        "2026-11-03": 2,
        "2026-11-05": 3,
        "2026-11-10": 4,
        "2026-11-16": 30,  # the window's last day, a Monday: an edge
        "2026-11-17": 1,  # after the window
    }
    WINDOW = {"from": "2026-11-01", "to": "2026-11-16", "center": "OSL-01"}

    @pytest.fixture
    def leads(self, world: World, session: Session, clock: FixedClock) -> None:
        _set(clock, "2026-11-18T12:00:00" + OSLO)
        for i, (day, lead) in enumerate(self.LEADS.items()):
            self._push(world, i, day, lead)
        _set(clock, "2026-11-20T09:00:00" + OSLO)
        assert refresh(session, clock) > 0

    @staticmethod
    def _push(world: World, i: int, day: str, lead: int) -> None:
        booked = date.fromisoformat(day) - timedelta(days=lead)
        push(
            world,
            f"WK-{i}",
            100 + i,
            status="checked_in",
            checked_in_at=f"{day}T10:00:00" + OSLO,
            booked_at=f"{booked.isoformat()}T12:00:00" + OSLO,
            appointment_date=day,
        )

    @staticmethod
    def _p50(figures: dict[str, Any]) -> int | None:
        return figures["access"]["booking_to_appointment_days_p50"]

    def test_edges_and_whole_weeks(self, world: World, leads: None) -> None:
        # [20, 2, 3, 4, 30]: the third of five is 4 (the whole weeks alone would say 3,
        # the days around the window 3)
        assert self._p50(metrics(world, **self.WINDOW)) == 4
        weeks = metrics(world, group_by="week", **self.WINDOW)["groups"]
        assert [(g["key"], self._p50(g)) for g in weeks] == [
            ("2026-10-26", 20),
            ("2026-11-02", 2),
            ("2026-11-09", 4),
            ("2026-11-16", 30),
        ]
        one_week = metrics(world, **{**self.WINDOW, "from": "2026-11-09", "to": "2026-11-15"})
        assert self._p50(one_week) == 4

    def test_a_group_equals_its_own_read(
        self, world: World, leads: None, wednesday: dict[str, int]
    ) -> None:
        """A center's group (durations as count, p50 and p90 computed in SQL) says what
        reading that center alone says (its histograms bucket by bucket)."""
        window = {"from": "2026-11-01", "to": "2026-11-29"}
        alone = metrics(world, center="OSL-01", **window)
        (group,) = [
            g for g in metrics(world, group_by="center", **window)["groups"] if g["key"] == "OSL-01"
        ]
        assert alone["resolution_business_minutes"]["count"] == 1
        for name in ("first_response_business_minutes", "resolution_business_minutes", "access"):
            assert group[name] == alone[name]

    def test_a_late_change_reaches_the_week(
        self, world: World, leads: None, session: Session, clock: FixedClock
    ) -> None:
        self._push(world, 2, "2026-11-03", 10)  # booked eight days earlier than sent first
        assert refresh(session, clock) >= 1
        # [20, 10, 3, 4, 30]
        assert self._p50(metrics(world, **self.WINDOW)) == 10

    def test_program_days_split_the_weeks(
        self, world: World, leads: None, session: Session, clock: FixedClock
    ) -> None:
        from direkte.network.service import record_program_change

        center = session.query(Center).filter_by(code="OSL-01").one()
        pilot = CenterProgramChange(
            center_id=center.id,
            program=Program.pilot,
            changed_at=at("2026-10-01T12:00:00" + OSLO),
            actor="test",
        )
        session.add(pilot)
        record_program_change(
            session, center, Program.on, at=at("2026-11-09T12:00:00" + OSLO), actor="test"
        )
        session.flush()
        window = {k: v for k, v in self.WINDOW.items() if k != "center"}
        # pilot: 2026-11-01 (an edge) and the week of the 2nd: [20, 2, 3]
        assert self._p50(metrics(world, program="pilot", **window)) == 3
        # on: the week of the 9th and 2026-11-16 (an edge): [4, 30]
        assert self._p50(metrics(world, program="on", **window)) == 4
