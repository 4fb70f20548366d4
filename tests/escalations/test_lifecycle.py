"""The escalation lifecycle through HTTP: opening, acting, conversing, appealing, rating,
and who may see a case (API.md, Customer and Staff; DESIGN.md §3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from direkte.escalations.models import EscalationEvent, EscalationRequest
from direkte.escalations.service import escalate_breached
from direkte.network.models import User
from direkte.notifications.models import OutboxEvent
from tests.conftest import T0
from tests.escalations.conftest import Case, World, error_code, staff_with
from tests.factories import make_network, make_vin, visit_body

KARI = "kari@example.no"
SIV = "siv@example.no"
OLA = "ola@example.no"
LARS = "lars@example.no"
API_FIELDS = {
    "id",
    "visit_id",
    "category",
    "subject_id",
    "status",
    "tier",
    "assignee",
    "sla",
    "guardrail",
    "version",
    "created_at",
}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def resolve(
    world: World,
    case_id: int,
    version: int,
    *,
    email: str = KARI,
    outcome: str = "revised",
    amount_delta: str = "-500",
) -> Any:
    return world.act(
        case_id,
        "resolve",
        email,
        {
            "outcome": outcome,
            "amount_delta": amount_delta,
            "note": "We replace the pads at our cost",
            "version": version,
        },
    )


def requests_of(session: Session, visit_id: int) -> list[EscalationRequest]:
    return list(
        session.scalars(
            sa.select(EscalationRequest)
            .where(EscalationRequest.visit_id == visit_id)
            .order_by(EscalationRequest.id)
        )
    )


class TestOpenEscalation:
    def test_eligible_request_answers_201_with_the_contract_fields(self, world: World) -> None:
        visit_id = world.visit()
        subject_id = world.diagnosis()
        response = world.escalate(visit_id, subject_id)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) >= API_FIELDS
        assert body["visit_id"] == visit_id
        assert body["subject_id"] == subject_id
        assert (body["category"], body["status"], body["tier"]) == ("diagnosis", "open", 1)
        assert body["version"] == 1
        assert when(body["created_at"]) == T0
        assert body["assignee"] == {"name": "Kari Nordmann", "role": "local_manager"}
        assert {"first_response_due", "resolution_due"} <= set(body["sla"])
        assert when(body["sla"]["first_response_due"]) == T0 + timedelta(hours=2)
        assert when(body["sla"]["resolution_due"]) == T0 + timedelta(hours=6)  # 16:00 Oslo
        guardrail = body["guardrail"]
        assert set(guardrail) == {"decision", "tier", "policy_version", "rules", "explanation"}
        assert (guardrail["decision"], guardrail["tier"]) == ("route", 1)
        assert guardrail["policy_version"]
        assert [r["rule"] for r in guardrail["rules"]] == [
            "eligibility",
            "frequency",
            "content",
            "duplicate",
            "materiality",
        ]  # capacity (managers' load) is staff's business: tests/escalations/test_disclosure.py
        for rule in guardrail["rules"]:
            assert set(rule) == {"rule", "passed", "inputs", "note"}
            assert rule["passed"] is True

    def test_first_response_due_at_closing_gives_resolution_by_that_closing(
        self, world: World, clock: FixedClock
    ) -> None:
        clock.advance(timedelta(hours=4))  # 14:00 Oslo: 2 business hours end at 16:00
        visit_id = world.visit()
        response = world.escalate(visit_id, world.diagnosis())
        assert response.status_code == 201, response.text
        sla = response.json()["sla"]
        assert when(sla["first_response_due"]) == T0 + timedelta(hours=6)
        assert when(sla["resolution_due"]) == T0 + timedelta(hours=6)

    def test_norwegian_customer_gets_norwegian_explanation(self, case: Case) -> None:
        assert case.body["guardrail"]["explanation"].startswith("Saken din er hos Kari Nordmann")

    def test_danish_customer_gets_danish_explanation(self, world: World) -> None:
        vehicle = {**visit_body()["vehicle"], "vin": make_vin(2)}
        visit_id = world.visit(
            "RO-DK", center="CPH-01", customer_email="mads@example.dk", vehicle=vehicle
        )
        response = world.escalate(visit_id, world.diagnosis("RO-DK"), email="mads@example.dk")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["assignee"] == {"name": "Mette Jensen", "role": "local_manager"}
        explanation = body["guardrail"]["explanation"]
        assert explanation.startswith("Din sag er hos Mette Jensen, den lokale servicechef")
        assert "12.00" in explanation  # 10:00 Copenhagen + 2 business hours, Danish format

    @pytest.mark.parametrize(
        ("failed_check", "visit_overrides", "fact", "value"),
        [
            ("program_running", {"center": "OSL-02"}, "program", "off"),
            (
                "visit_checked_in",
                {"status": "scheduled", "checked_in_at": None},
                "visit_status",
                "scheduled",
            ),
            (
                "within_window",
                {"status": "closed", "closed_at": "2026-11-01T12:00:00+01:00"},
                "visit_closed_at",
                "2026-11-01T11:00:00+00:00",
            ),
        ],
    )
    def test_ineligible_visit_is_422_not_eligible_and_recorded(
        self,
        world: World,
        session: Session,
        failed_check: str,
        visit_overrides: dict[str, Any],
        fact: str,
        value: object,
    ) -> None:
        visit_id = world.visit(**visit_overrides)
        subject_id = world.diagnosis()
        response = world.escalate(visit_id, subject_id)
        self._assert_not_eligible(response, failed_check)
        [request] = requests_of(session, visit_id)
        assert (request.kind, request.decision, request.escalation_id) == ("create", "reject", None)
        assert request.subject_id == subject_id
        assert request.reason == "The pads were changed last month"
        assert request.facts[fact] == value
        assert request.result["rules"][0]["inputs"]["checks"][failed_check] is False

    def test_subject_of_another_visit_is_422_not_eligible_and_recorded(
        self, world: World, session: Session
    ) -> None:
        visit_id = world.visit("RO-1")
        world.diagnosis("RO-1")
        world.visit("RO-2")
        foreign = world.diagnosis("RO-2")
        response = world.escalate(visit_id, foreign)
        self._assert_not_eligible(response, "subject_of_visit")
        [request] = requests_of(session, visit_id)
        assert (request.decision, request.subject_id) == ("reject", foreign)
        assert request.facts["subject_belongs"] is False

    def test_visit_closed_within_14_days_is_eligible(self, world: World) -> None:
        visit_id = world.visit(status="closed", closed_at="2026-11-05T12:00:00+01:00")
        response = world.escalate(visit_id, world.diagnosis())
        assert response.status_code == 201, response.text

    @staticmethod
    def _assert_not_eligible(response: Any, failed_check: str) -> None:
        assert response.status_code == 422, response.text
        assert error_code(response) == "not_eligible"
        details = response.json()["error"]["details"]
        assert (details["decision"], details["tier"]) == ("reject", None)
        assert details["explanation"]
        eligibility = details["rules"][0]
        assert (eligibility["rule"], eligibility["passed"]) == ("eligibility", False)
        failed = [name for name, ok in eligibility["inputs"]["checks"].items() if not ok]
        assert failed == [failed_check]

    def test_second_request_same_visit_and_category_is_folded_into_the_case(
        self, world: World, case: Case, session: Session
    ) -> None:
        again = world.escalate(case.visit_id, case.subject_id, reason="And it still grinds")
        assert again.status_code == 200, again.text
        body = again.json()
        assert body["folded"] is True
        assert body["id"] == case.id
        requests = requests_of(session, case.visit_id)
        assert [(r.escalation_id, r.folded) for r in requests] == [
            (case.id, False),
            (case.id, True),
        ]
        thread = world.get(case.id, OLA).json()["thread"]
        assert [m["body"] for m in thread] == [
            "The pads were changed last month",
            "And it still grinds",
        ]

    def test_staff_member_escalating_is_403(self, world: World) -> None:
        visit_id = world.visit()
        response = world.escalate(visit_id, world.diagnosis(), email=KARI)
        assert response.status_code == 403
        assert error_code(response) == "customers_only"


class TestAssignment:
    def test_manager_on_duty_gets_the_tier1_case(self, case: Case) -> None:
        assert case.body["assignee"] == {"name": "Kari Nordmann", "role": "local_manager"}

    def test_manager_off_duty_case_goes_to_the_deputy(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock, staff=staff_with(**{KARI: {"on_duty": False}}))
        visit_id = world.visit()
        response = world.escalate(visit_id, world.diagnosis())
        assert response.status_code == 201, response.text
        assert response.json()["tier"] == 1
        assert response.json()["assignee"] == {"name": "Per Deputy", "role": "local_manager"}

    def test_deputy_standing_in_brings_their_own_deputy(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        # Kari off duty: Per, her deputy, takes the case, and Per's own deputy (Siv) is
        # the one recorded to stand in for him, not Kari (the center's other manager).
        staff = staff_with(**{KARI: {"on_duty": False}, "per@example.no": {"deputy": SIV}})
        make_network(session, clock, staff=staff)
        visit_id = world.visit()
        response = world.escalate(visit_id, world.diagnosis())
        assert response.status_code == 201, response.text
        assert response.json()["assignee"] == {"name": "Per Deputy", "role": "local_manager"}
        facts = session.scalars(sa.select(EscalationRequest.facts)).one()
        siv = session.scalars(sa.select(User.id).where(User.email == SIV)).one()
        assert facts["deputy_id"] == siv


class TestTransitions:
    def test_resolving_withdrawn_case_is_409_naming_the_status(
        self, world: World, case: Case
    ) -> None:
        withdrawn = world.act(case.id, "withdraw", OLA)
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["status"] == "withdrawn"
        response = resolve(world, case.id, withdrawn.json()["version"])
        assert response.status_code == 409
        assert error_code(response) == "invalid_transition"
        assert response.json()["error"]["details"]["current_status"] == "withdrawn"

    def test_withdrawing_resolved_case_is_409_naming_the_status(
        self, world: World, case: Case
    ) -> None:
        assert resolve(world, case.id, 1).status_code == 200
        response = world.act(case.id, "withdraw", OLA)
        assert response.status_code == 409
        assert error_code(response) == "invalid_transition"
        assert response.json()["error"]["details"]["current_status"] == "resolved"

    def test_acknowledging_resolved_case_is_409_naming_the_status(
        self, world: World, case: Case
    ) -> None:
        assert resolve(world, case.id, 1).status_code == 200
        response = world.act(case.id, "acknowledge", KARI)
        assert response.status_code == 409
        assert error_code(response) == "invalid_transition"
        assert response.json()["error"]["details"]["current_status"] == "resolved"

    def test_message_on_withdrawn_case_is_409(self, world: World, case: Case) -> None:
        assert world.act(case.id, "withdraw", OLA).status_code == 200
        response = world.act(case.id, "messages", OLA, {"body": "Hello?"})
        assert response.status_code == 409
        assert error_code(response) == "invalid_transition"
        assert response.json()["error"]["details"]["current_status"] == "withdrawn"

    def test_transitions_are_in_the_timeline_with_actor_and_time(
        self, world: World, case: Case, clock: FixedClock, session: Session
    ) -> None:
        clock.advance(timedelta(minutes=10))
        ack = world.act(case.id, "acknowledge", KARI)
        assert ack.status_code == 200, ack.text
        clock.advance(timedelta(minutes=50))
        assert resolve(world, case.id, ack.json()["version"]).status_code == 200
        timeline = world.get(case.id, KARI).json()["timeline"]
        assert [
            (e["kind"], e["from_status"], e["to_status"], e["actor"], when(e["at"]))
            for e in timeline
        ] == [
            ("opened", None, "open", OLA, T0),
            ("status.acknowledged", "open", "acknowledged", KARI, T0 + timedelta(minutes=10)),
            ("status.resolved", "acknowledged", "resolved", KARI, T0 + timedelta(hours=1)),
        ]
        actors = session.scalars(
            sa.select(EscalationEvent.actor_kind)
            .where(EscalationEvent.escalation_id == case.id)
            .order_by(EscalationEvent.id)
        ).all()
        assert actors == ["user", "user", "user"]

    def test_withdraw_open_case_is_recorded_and_notified(
        self, world: World, case: Case, session: Session
    ) -> None:
        response = world.act(case.id, "withdraw", OLA)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "withdrawn"
        timeline = world.get(case.id, KARI).json()["timeline"]
        assert (timeline[-1]["kind"], timeline[-1]["actor"]) == ("status.withdrawn", OLA)
        topics = session.scalars(
            sa.select(OutboxEvent.topic).where(OutboxEvent.aggregate_id == case.id)
        ).all()
        assert "escalation.withdrawn" in topics

    def test_resolve_with_stale_version_is_409(self, world: World, case: Case) -> None:
        ack = world.act(case.id, "acknowledge", KARI)
        assert ack.json()["version"] == 2
        response = resolve(world, case.id, 1)
        assert response.status_code == 409
        assert error_code(response) == "stale_version"
        assert world.get(case.id, KARI).json()["status"] == "acknowledged"

    def test_upheld_with_nonzero_amount_is_422(self, world: World, case: Case) -> None:
        response = resolve(world, case.id, 1, outcome="upheld", amount_delta="-100")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert [d["field"] for d in response.json()["error"]["details"]] == ["amount_delta"]
        assert world.get(case.id, KARI).json()["status"] == "open"

    @pytest.mark.parametrize(
        "amount", ["-\u0665\u0660\u0660", "NaN", "-Infinity", "-5e2", "-1_000", " -500"]
    )
    def test_odd_amount_delta_is_422(self, world: World, case: Case, amount: str) -> None:
        # Arabic-Indic -500: Python's Decimal() would read it as -500.
        response = resolve(world, case.id, 1, amount_delta=amount)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        [detail] = response.json()["error"]["details"]
        assert (detail["field"], detail["location"]) == ("amount_delta", "body")
        assert world.get(case.id, KARI).json()["status"] == "open"

    def test_resolve_records_outcome_and_money_delta(self, world: World, case: Case) -> None:
        response = resolve(world, case.id, 1)
        assert response.status_code == 200, response.text
        outcome = response.json()["outcome"]
        assert outcome["outcome"] == "revised"
        assert outcome["amount_delta"] == {"amount": "-500.00", "currency": "NOK"}
        assert outcome["note"] == "We replace the pads at our cost"


class TestAwaitingCustomer:
    @pytest.fixture
    def waiting(self, world: World, case: Case, clock: FixedClock) -> dict[str, Any]:
        clock.advance(timedelta(minutes=30))  # 10:30 Oslo
        message = world.act(
            case.id,
            "messages",
            KARI,
            {"body": "Could you send a photo of the invoice?", "await_customer": True},
        )
        assert message.status_code == 201, message.text
        body = world.get(case.id, OLA).json()
        assert body["status"] == "awaiting_customer"
        return dict(body)

    def test_staff_waiting_on_customer_pauses_the_sla(self, waiting: dict[str, Any]) -> None:
        assert waiting["sla"]["paused"] is True
        assert when(waiting["sla"]["first_response_at"]) == T0 + timedelta(minutes=30)

    def test_paused_case_past_its_targets_is_not_auto_escalated(
        self, world: World, case: Case, waiting: dict[str, Any], clock: FixedClock, session: Session
    ) -> None:
        clock.advance(timedelta(hours=6, minutes=30))  # 17:00 Oslo, past every target
        assert escalate_breached(session, now=clock.now()) == 0
        session.commit()
        body = world.get(case.id, KARI).json()
        assert (body["status"], body["tier"], body["sla"]["paused"]) == (
            "awaiting_customer",
            1,
            True,
        )
        assert body["assignee"]["name"] == "Kari Nordmann"

    def test_customer_reply_resumes_sla_shifted_by_paused_business_time(
        self, world: World, case: Case, waiting: dict[str, Any], clock: FixedClock
    ) -> None:
        clock.advance(timedelta(hours=3))  # 13:30 Oslo: 3 business hours paused
        reply = world.act(case.id, "messages", OLA, {"body": "Photo attached"})
        assert reply.status_code == 201, reply.text
        body = world.get(case.id, OLA).json()
        assert (body["status"], body["sla"]["paused"]) == ("acknowledged", False)
        # First response was given; the resolution target (16:00 Oslo Wednesday) moves
        # by the 3 paused business hours: Thursday 11:00 Oslo.
        assert when(body["sla"]["first_response_due"]) == T0 + timedelta(hours=2)
        assert when(body["sla"]["resolution_due"]) == datetime.fromisoformat(
            "2026-11-19T11:00:00+01:00"
        )
        assert body["timeline"][-1]["kind"] == "customer_replied"

    def test_reply_after_hours_counts_only_business_time_paused(
        self, world: World, case: Case, waiting: dict[str, Any], clock: FixedClock
    ) -> None:
        clock.advance(timedelta(hours=6, minutes=30))  # 17:00 Oslo: 5.5 business hours paused
        assert world.act(case.id, "messages", OLA, {"body": "Photo attached"}).status_code == 201
        body = world.get(case.id, OLA).json()
        assert when(body["sla"]["resolution_due"]) == datetime.fromisoformat(
            "2026-11-19T13:30:00+01:00"
        )


class TestConversation:
    def test_messages_both_ways_appear_in_the_thread(self, world: World, case: Case) -> None:
        staff = world.act(case.id, "messages", KARI, {"body": "We are looking at it"})
        assert staff.status_code == 201, staff.text
        customer = world.act(case.id, "messages", OLA, {"body": "Thanks"})
        assert customer.status_code == 201, customer.text
        for viewer in (OLA, KARI):
            thread = world.get(case.id, viewer).json()["thread"]
            assert [(m["author"]["role"], m["body"]) for m in thread] == [
                ("customer", "The pads were changed last month"),
                ("local_manager", "We are looking at it"),
                ("customer", "Thanks"),
            ]

    def test_staff_message_counts_as_first_response(self, world: World, case: Case) -> None:
        world.act(case.id, "messages", KARI, {"body": "We are looking at it"})
        assert when(world.get(case.id, OLA).json()["sla"]["first_response_at"]) == T0

    def test_staff_note_is_shown_to_staff_never_to_the_customer(
        self, world: World, case: Case
    ) -> None:
        note = world.act(case.id, "notes", KARI, {"body": "Pads were fitted by us in October"})
        assert note.status_code == 201, note.text
        for viewer in (KARI, LARS):
            notes = world.get(case.id, viewer).json()["notes"]
            assert [n["body"] for n in notes] == ["Pads were fitted by us in October"]
        seen = world.get(case.id, OLA).json()
        assert seen["notes"] is None
        assert "Pads were fitted by us in October" not in str(seen)

    def test_customer_adding_a_note_is_403(self, world: World, case: Case) -> None:
        response = world.act(case.id, "notes", OLA, {"body": "Note to self"})
        assert response.status_code == 403
        assert error_code(response) == "staff_only"

    def test_logged_call_is_shown_to_staff_only(self, world: World, case: Case) -> None:
        call = world.act(
            case.id,
            "calls",
            KARI,
            {"summary": "Explained the wear pattern", "duration_seconds": 240},
        )
        assert call.status_code == 201, call.text
        calls = world.get(case.id, KARI).json()["calls"]
        assert [(c["body"], c["duration_seconds"]) for c in calls] == [
            ("Explained the wear pattern", 240)
        ]
        assert when(calls[0]["called_at"]) == T0
        seen = world.get(case.id, OLA).json()
        assert seen["calls"] is None
        assert "Explained the wear pattern" not in str(seen)


class TestAppeal:
    @pytest.fixture
    def resolved(self, world: World, case: Case, clock: FixedClock) -> dict[str, Any]:
        clock.advance(timedelta(hours=1))  # 11:00 Oslo
        response = resolve(world, case.id, 1)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def test_appeal_within_window_goes_to_the_regional_manager(
        self,
        world: World,
        case: Case,
        resolved: dict[str, Any],
        clock: FixedClock,
        session: Session,
    ) -> None:
        clock.advance(timedelta(days=2))  # Friday 11:00 Oslo
        response = world.act(case.id, "appeal", OLA, {"reason": "Still not convinced"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["tier"], body["appealed"]) == ("open", 2, True)
        assert body["assignee"] == {"name": "Lars Berg", "role": "regional_manager"}
        assert body["outcome"] is None
        # Tier 2: first answer in 4 business hours, landing on Friday's 15:00 closing;
        # resolution in 8, so 4 more on Monday.
        assert when(body["sla"]["first_response_due"]) == datetime.fromisoformat(
            "2026-11-20T15:00:00+01:00"
        )
        assert when(body["sla"]["resolution_due"]) == datetime.fromisoformat(
            "2026-11-23T12:00:00+01:00"
        )
        event = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.topic == "escalation.appealed")
        ).one()
        lars = session.scalar(sa.select(User.id).where(User.email == "lars@example.no"))
        assert event.recipients == [lars]  # the appeal's new assignee
        [appeal] = [r for r in requests_of(session, case.visit_id) if r.kind == "appeal"]
        assert (appeal.decision, appeal.tier, appeal.escalation_id) == ("route", 2, case.id)

    def test_second_appeal_while_open_is_409_already_appealed(
        self, world: World, case: Case, resolved: dict[str, Any]
    ) -> None:
        assert world.act(case.id, "appeal", OLA, {"reason": "No"}).status_code == 200
        again = world.act(case.id, "appeal", OLA, {"reason": "Really no"})
        assert again.status_code == 409
        assert error_code(again) == "already_appealed"

    def test_second_appeal_after_tier2_outcome_is_409_already_appealed(
        self, world: World, case: Case, resolved: dict[str, Any]
    ) -> None:
        appealed = world.act(case.id, "appeal", OLA, {"reason": "No"})
        assert resolve(world, case.id, appealed.json()["version"], email=LARS).status_code == 200
        again = world.act(case.id, "appeal", OLA, {"reason": "Really no"})
        assert again.status_code == 409
        assert error_code(again) == "already_appealed"

    def test_late_appeal_is_422_appeal_window_closed_and_recorded(
        self,
        world: World,
        case: Case,
        resolved: dict[str, Any],
        clock: FixedClock,
        session: Session,
    ) -> None:
        clock.advance(timedelta(days=8))
        response = world.act(case.id, "appeal", OLA, {"reason": "Forgot about it"})
        assert response.status_code == 422
        assert error_code(response) == "appeal_window_closed"
        assert world.get(case.id, OLA).json()["status"] == "resolved"
        [appeal] = [r for r in requests_of(session, case.visit_id) if r.kind == "appeal"]
        assert (appeal.decision, appeal.escalation_id) == ("reject", case.id)

    def test_appeal_before_an_outcome_is_409(self, world: World, case: Case) -> None:
        response = world.act(case.id, "appeal", OLA, {"reason": "Too slow"})
        assert response.status_code == 409
        assert error_code(response) == "invalid_transition"


class TestRating:
    def test_rating_before_resolution_is_409(self, world: World, case: Case) -> None:
        response = world.act(case.id, "rating", OLA, {"score": 4})
        assert response.status_code == 409
        assert error_code(response) == "invalid_transition"

    @pytest.mark.parametrize("score", [0, 6])
    def test_score_outside_1_to_5_is_422(self, world: World, case: Case, score: int) -> None:
        assert resolve(world, case.id, 1).status_code == 200
        response = world.act(case.id, "rating", OLA, {"score": score})
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert world.get(case.id, OLA).json()["rating"] is None

    def test_rating_after_resolution_is_kept_once(self, world: World, case: Case) -> None:
        assert resolve(world, case.id, 1).status_code == 200
        first = world.act(case.id, "rating", OLA, {"score": 5, "comment": "Fair"})
        assert first.status_code == 201, first.text
        assert first.json()["rating"]["score"] == 5
        again = world.act(case.id, "rating", OLA, {"score": 1})
        assert again.status_code == 409
        assert error_code(again) == "already_rated"
        assert world.get(case.id, OLA).json()["rating"]["score"] == 5


class TestVisibility:
    @pytest.mark.parametrize(
        "email",
        [OLA, "siv@example.no", KARI, "per@example.no", LARS, "ops@example.no"],
        ids=["owner", "advisor", "local_manager", "deputy", "regional_manager", "ops"],
    )
    def test_owner_center_staff_region_manager_and_ops_see_the_case(
        self, world: World, case: Case, email: str
    ) -> None:
        response = world.get(case.id, email)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == case.id

    @pytest.mark.parametrize(
        "email",
        [
            "eva@example.no",
            "ove@example.no",
            "mette@example.dk",
            "dorte@example.dk",
        ],
        ids=[
            "other_customer",
            "other_center_advisor",
            "other_region_local_manager",
            "other_regional_manager",
        ],
    )
    def test_anyone_else_gets_404(self, world: World, case: Case, email: str) -> None:
        response = world.get(case.id, email)
        assert response.status_code == 404
        assert error_code(response) == "escalation_not_found"

    def test_other_center_staff_acting_on_the_case_gets_404(self, world: World, case: Case) -> None:
        response = world.act(case.id, "acknowledge", "ove@example.no")
        assert response.status_code == 404
        assert error_code(response) == "escalation_not_found"
        assert world.get(case.id, KARI).json()["status"] == "open"

    def test_another_customer_withdrawing_gets_404(self, world: World, case: Case) -> None:
        response = world.act(case.id, "withdraw", "eva@example.no")
        assert response.status_code == 404
        assert error_code(response) == "escalation_not_found"
        assert world.get(case.id, OLA).json()["status"] == "open"
