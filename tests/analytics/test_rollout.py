"""`GET|PUT /api/v1/rollout`, `POST /rollout/waves/{id}/advance` and the evaluation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.analytics.service import refresh_dirty
from direkte.audit.models import AuditEvent
from direkte.clock import FixedClock
from direkte.network.models import Center, CenterProgramChange, Program
from tests.escalations.conftest import World
from tests.factories import make_api_key, make_network, make_vin

OPS = "ops@example.no"


@pytest.fixture
def world(client: TestClient, session: Session, clock: FixedClock) -> World:
    make_network(session, clock)
    return World(client=client, key=make_api_key(session, clock), clock=clock)


def plan(*waves: dict[str, Any], centers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"waves": list(waves)}
    if centers is not None:
        body["centers"] = centers
    return body


def wave(
    name: str,
    centers: list[str],
    gate: list[dict[str, Any]] | None = None,
    day: str = "2026-11-01",
    **extra: Any,
) -> dict[str, Any]:
    return {"name": name, "date": day, "centers": centers, "gate": gate or [], **extra}


def put(world: World, body: dict[str, Any]) -> Any:
    return world.client.put("/api/v1/rollout", json=body, headers=world.as_(OPS))


class PushesVisits(Protocol):
    """The HTTP world of these tests or of the web app's: pushes a visit as the dealer."""

    def visit(self, external_id: str = "RO-1", **overrides: Any) -> int: ...


def history_visits(
    world: PushesVisits, session: Session, clock: FixedClock, *, same_day: int, of: int
) -> None:
    """``of`` visits at the program center OSL-01 over the last days, ``same_day`` of them
    ready the day they came in; then the worker's round."""
    today = clock.now().date()
    for i in range(of):
        day = today - timedelta(days=2 + i % 20)
        checked_in = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
        ready = checked_in + (timedelta(hours=4) if i < same_day else timedelta(days=1))
        world.visit(
            f"H-{i}",
            vehicle={
                "vin": make_vin(100 + i),
                "model": "Model Y",
                "model_year": 2022,
                "odometer_km": 1000,
                "delivery_date": "2022-01-01",
            },
            status="ready",
            checked_in_at=checked_in.isoformat(),
            ready_at=ready.isoformat(),
        )
    refresh_dirty(session, now=clock.now())
    session.flush()


class TestPlan:
    def test_put_then_get(self, world: World) -> None:
        body = plan(
            wave(
                "Wave 2",
                ["OSL-02"],
                [
                    {"figure": "same_day_resolution", "op": ">=", "value": 0.6},
                    {"figure": "escalation_rate_per_100", "op": "<=", "value": 5},
                ],
            ),
        )
        response = put(world, body)
        assert response.status_code == 200, response.text
        state = world.client.get("/api/v1/rollout", headers=world.as_(OPS)).json()
        assert state == response.json()
        assert {c["code"]: c["program"] for c in state["centers"]} == {
            "CPH-01": "on",
            "OSL-01": "pilot",
            "OSL-02": "off",
        }
        assert all(c["since"] == "2026-11-18" for c in state["centers"])
        (w,) = state["waves"]
        assert (w["name"], w["centers"], w["program"], w["date"]) == (
            "Wave 2",
            ["OSL-02"],
            "pilot",
            "2026-11-01",
        )
        # no figures yet: every condition fails with no measured value
        assert w["status"] == "blocked"
        assert [(g["figure"], g["measured"], g["holds"]) for g in w["gate"]] == [
            ("same_day_resolution", None, False),
            ("escalation_rate_per_100", None, False),
        ]

    def test_future_wave_is_planned_and_put_replaces_waves(self, world: World) -> None:
        first = put(world, plan(wave("A", ["OSL-02"], day="2027-03-01"))).json()
        (a,) = first["waves"]
        assert a["status"] == "planned"
        second = put(
            world,
            plan(
                {**wave("A2", ["OSL-02"], day="2027-03-01"), "id": a["id"]},
                wave("B", ["CPH-01"], program="on"),
            ),
        )
        assert second.status_code == 200, second.text
        names = [(w["id"] == a["id"], w["name"]) for w in second.json()["waves"]]
        assert names == [(True, "A2"), (False, "B")]
        assert put(world, plan()).json()["waves"] == []

    @pytest.mark.parametrize(
        ("body", "fields"),
        [
            (plan(wave("A", ["OSL-02", "NOPE-9"])), ["waves[0].centers[1]"]),
            (plan(wave("A", ["OSL-02"]), wave("B", ["CPH-01", "OSL-02"])), ["waves[1].centers[1]"]),
            (
                plan(wave("A", ["OSL-02"], [{"figure": "happiness", "op": ">=", "value": 1}])),
                ["waves[0].gate[0].figure"],
            ),
            (
                plan(wave("A", ["OSL-02"]), centers=[{"code": "ZZZ", "program": "on"}]),
                ["centers[0].code"],
            ),
            (plan({**wave("A", ["OSL-02"]), "id": 999}), ["waves[0].id"]),
            (
                plan(wave("A", ["OSL-02"], [{"figure": "reach_rate", "op": "==", "value": 1}])),
                ["waves[0].gate[0].op"],
            ),
            (plan(wave("A", [])), ["waves[0].centers"]),
        ],
    )
    def test_bad_plan_names_the_place(
        self, world: World, body: dict[str, Any], fields: list[str]
    ) -> None:
        response = put(world, body)
        assert response.status_code == 422, response.text
        assert [d["field"] for d in response.json()["error"]["details"]] == fields
        assert world.client.get("/api/v1/rollout", headers=world.as_(OPS)).json()["waves"] == []

    def test_setting_a_program_state_is_recorded(self, world: World, session: Session) -> None:
        response = put(world, plan(centers=[{"code": "OSL-02", "program": "pilot"}]))
        assert response.status_code == 200, response.text
        rows = session.execute(
            sa.select(CenterProgramChange.program, CenterProgramChange.actor)
            .join(Center, Center.id == CenterProgramChange.center_id)
            .where(Center.code == "OSL-02")
            .order_by(CenterProgramChange.id)
        ).all()
        assert [tuple(r) for r in rows] == [(Program.off, "network-file"), (Program.pilot, OPS)]


class TestAdvance:
    GATE = [
        {"figure": "same_day_resolution", "op": ">=", "value": 0.6},
        {"figure": "escalation_rate_per_100", "op": "<=", "value": 10},
    ]

    def _wave(self, world: World) -> int:
        state = put(world, plan(wave("Wave 2", ["OSL-02"], self.GATE))).json()
        return int(state["waves"][0]["id"])

    def test_gate_failed_lists_every_failing_condition(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        history_visits(world, session, clock, same_day=5, of=10)
        wave_id = self._wave(world)
        response = world.client.post(
            f"/api/v1/rollout/waves/{wave_id}/advance", headers=world.as_(OPS)
        )
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "gate_failed"
        assert error["details"]["failing"] == [
            {"figure": "same_day_resolution", "op": ">=", "value": 0.6, "measured": 0.5}
        ]
        assert session.scalar(sa.select(Center.program).where(Center.code == "OSL-02")) == (
            Program.off
        )
        status = world.client.get("/api/v1/rollout", headers=world.as_(OPS)).json()
        assert status["waves"][0]["status"] == "blocked"

    def test_gate_holds_moves_the_centers_and_records_who(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        history_visits(world, session, clock, same_day=7, of=10)
        wave_id = self._wave(world)
        state = world.client.get("/api/v1/rollout", headers=world.as_(OPS)).json()
        assert state["waves"][0]["status"] == "ready"
        response = world.client.post(
            f"/api/v1/rollout/waves/{wave_id}/advance", headers=world.as_(OPS)
        )
        assert response.status_code == 200, response.text
        assert response.json()["moved"] == ["OSL-02"]
        assert response.json()["forced"] is False
        change = session.scalars(
            sa.select(CenterProgramChange).order_by(CenterProgramChange.id.desc())
        ).first()
        assert change is not None
        assert (change.program, change.actor, change.changed_at) == (
            Program.pilot,
            OPS,
            clock.now(),
        )
        audit = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "rollout.wave_advanced")
        ).one()
        assert audit.actor_label == OPS
        again = world.client.post(
            f"/api/v1/rollout/waves/{wave_id}/advance", headers=world.as_(OPS)
        )
        assert (again.status_code, again.json()["error"]["code"]) == (409, "wave_done")
        state = world.client.get("/api/v1/rollout", headers=world.as_(OPS)).json()
        assert state["waves"][0]["status"] == "done"
        assert {c["code"]: c["program"] for c in state["centers"]}["OSL-02"] == "pilot"

    def test_override_needs_a_reason_and_is_audited(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        wave_id = self._wave(world)
        url = f"/api/v1/rollout/waves/{wave_id}/advance"
        no_reason = world.client.post(url, json={"force": True}, headers=world.as_(OPS))
        assert no_reason.status_code == 422
        assert no_reason.json()["error"]["details"][0]["field"] == "reason"
        forced = world.client.post(
            url, json={"force": True, "reason": "Board decision 2026-11"}, headers=world.as_(OPS)
        )
        assert forced.status_code == 200, forced.text
        assert forced.json()["forced"] is True
        audit = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "rollout.wave_forced")
        ).one()
        assert audit.data["reason"] == "Board decision 2026-11"
        assert [c["measured"] for c in audit.data["gate"]] == [None, None]

    def test_unknown_wave(self, world: World) -> None:
        response = world.client.post("/api/v1/rollout/waves/4242/advance", headers=world.as_(OPS))
        assert (response.status_code, response.json()["error"]["code"]) == (404, "wave_not_found")


class TestEvaluation:
    def test_too_few_centers_is_insufficient_data(self, world: World) -> None:
        response = world.client.get(
            "/api/v1/rollout/evaluation",
            params={"figure": "same_day_resolution", "from": "2026-01-05", "to": "2026-11-15"},
            headers=world.as_(OPS),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["method"] == "difference_in_differences"
        assert body["recommendation"] == "insufficient_data"
        assert body["estimate"] is None
        assert body["ci"] is None
        assert body["reason"]
        assert "why" not in body  # the web app's worded reason stays out of the API
        assert body["level"] == 0.95

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"figure": "happiness"}, "figure"),
            ({"figure": "reach_rate", "from": "2026-11-01", "to": "2026-10-01"}, "to"),
        ],
    )
    def test_bad_input(self, world: World, params: dict[str, str], field: str) -> None:
        response = world.client.get(
            "/api/v1/rollout/evaluation", params=params, headers=world.as_(OPS)
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field


def test_panel_is_weekly_with_the_state_of_each_week(
    world: World, session: Session, clock: FixedClock
) -> None:
    """OSL-02 (off) enters the pilot on Thursday 26 November: that week is left out,
    the week before is untreated and the week after treated."""
    import math

    from direkte.analytics.service import build_panel
    from direkte.network.service import record_program_change

    clock.advance(datetime(2026, 12, 7, 9, tzinfo=UTC) - clock.now())
    for week, monday in enumerate(("2026-11-16", "2026-11-23", "2026-11-30")):
        for n, hours in enumerate((3, 30)):
            day = datetime.fromisoformat(monday + "T08:00:00+00:00") + timedelta(days=1)
            world.visit(
                f"P-{week}-{n}",
                center="OSL-02",
                vehicle={
                    "vin": make_vin(300 + 10 * week + n),
                    "model": "Model 3",
                    "model_year": 2021,
                    "odometer_km": 10,
                    "delivery_date": "2021-01-01",
                },
                status="ready",
                checked_in_at=day.isoformat(),
                ready_at=(day + timedelta(hours=hours)).isoformat(),
            )
    osl2 = session.scalars(sa.select(Center).where(Center.code == "OSL-02")).one()
    record_program_change(
        session, osl2, Program.pilot, at=datetime(2026, 11, 26, 12, tzinfo=UTC), actor="test"
    )
    refresh_dirty(session, now=clock.now())
    session.flush()
    panel = build_panel(session, "same_day_resolution", date(2026, 11, 16), date(2026, 12, 6))
    assert panel.centers == ("CPH-01", "OSL-01", "OSL-02")
    assert panel.weeks == (date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30))
    row = panel.centers.index("OSL-02")
    values = list(panel.values[row])
    assert values[0] == 0.5
    assert math.isnan(values[1])
    assert values[2] == 0.5
    assert list(panel.treated[row]) == [False, False, True]
    assert list(panel.treated[panel.centers.index("OSL-01")]) == [True, True, True]
