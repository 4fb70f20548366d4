"""Idempotency-Key on creating escalations, messages and outcomes (DESIGN.md §3):
a retry returns the first answer and writes nothing; keys are per caller and kept 24 h."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from tests.escalations.conftest import Case, World, error_code, row_counts
from tests.factories import make_vin, visit_body

OLA = "ola@example.no"
KARI = "kari@example.no"


def post(
    client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str], key: str
) -> Response:
    return client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


def resolve_body(version: int, note: str = "We replace the pads at our cost") -> dict[str, Any]:
    return {"outcome": "goodwill", "amount_delta": "-500", "note": note, "version": version}


def estimate(world: World, external_id: str = "RO-1") -> int:
    response = world.client.post(
        f"/api/v1/integration/visits/{external_id}/estimates",
        json={
            "lines": [
                {"kind": "part", "description": "Pads", "quantity": "1", "unit_price": "1200"}
            ]
        },
        headers={"X-API-Key": world.key},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


class TestIdempotentCreate:
    def test_retry_with_same_key_and_body_replays_without_duplicates(
        self, world: World, session: Session
    ) -> None:
        visit_id = world.visit()
        subject_id = world.diagnosis()
        first = world.escalate(visit_id, subject_id, key="open-1")
        assert first.status_code == 201, first.text
        counts = row_counts(session)
        assert counts == {
            "escalations": 1,
            "escalation_messages": 1,
            "escalation_requests": 1,
            "outbox_events": 1,
        }
        retry = world.escalate(visit_id, subject_id, key="open-1")
        assert retry.status_code == 201
        assert retry.json() == first.json()
        assert retry.headers.get("Idempotent-Replayed") == "true"
        assert row_counts(session) == counts

    def test_retry_of_rejected_request_replays_422_and_records_it_once(
        self, world: World, session: Session
    ) -> None:
        visit_id = world.visit(center="OSL-02")
        subject_id = world.diagnosis()
        first = world.escalate(visit_id, subject_id, key="open-1")
        assert first.status_code == 422
        assert error_code(first) == "not_eligible"
        retry = world.escalate(visit_id, subject_id, key="open-1")
        assert (retry.status_code, retry.json()) == (422, first.json())
        assert row_counts(session)["escalation_requests"] == 1

    def test_same_key_with_different_body_is_422_idempotency_key_reused(
        self, world: World, session: Session
    ) -> None:
        visit_id = world.visit()
        subject_id = world.diagnosis()
        assert world.escalate(visit_id, subject_id, key="open-1").status_code == 201
        counts = row_counts(session)
        other = world.escalate(visit_id, subject_id, key="open-1", reason="Something else")
        assert other.status_code == 422
        assert error_code(other) == "idempotency_key_reused"
        assert row_counts(session) == counts

    def test_same_key_from_another_customer_is_independent(
        self, world: World, session: Session
    ) -> None:
        ola_visit = world.visit()
        assert world.escalate(ola_visit, world.diagnosis(), key="open-1").status_code == 201
        vehicle = {**visit_body()["vehicle"], "vin": make_vin(2)}
        mads_visit = world.visit(
            "RO-DK", center="CPH-01", customer_email="mads@example.dk", vehicle=vehicle
        )
        mads = world.escalate(
            mads_visit, world.diagnosis("RO-DK"), email="mads@example.dk", key="open-1"
        )
        assert mads.status_code == 201, mads.text
        assert mads.json()["visit_id"] == mads_visit
        assert "Idempotent-Replayed" not in mads.headers
        assert row_counts(session)["escalations"] == 2

    def test_key_older_than_24_hours_can_be_used_for_a_new_request(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        visit_id = world.visit()
        diagnosis_id = world.diagnosis()
        estimate_id = estimate(world)
        assert world.escalate(visit_id, diagnosis_id, key="open-1").status_code == 201
        clock.advance(timedelta(hours=23))
        early = world.escalate(visit_id, estimate_id, category="estimate", key="open-1")
        assert error_code(early) == "idempotency_key_reused"
        clock.advance(timedelta(hours=2))
        late = world.escalate(visit_id, estimate_id, category="estimate", key="open-1")
        assert late.status_code == 201, late.text
        assert late.json()["category"] == "estimate"
        assert row_counts(session)["escalations"] == 2

    def test_same_key_and_body_after_24_hours_is_a_new_request(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        visit_id = world.visit()
        subject_id = world.diagnosis()
        first = world.escalate(visit_id, subject_id, key="open-1")
        clock.advance(timedelta(hours=25))
        again = world.escalate(visit_id, subject_id, key="open-1")
        assert again.status_code == 200, again.text  # decided afresh: folded, not replayed
        assert (again.json()["id"], again.json()["folded"]) == (first.json()["id"], True)
        assert row_counts(session)["escalation_requests"] == 2


class TestIdempotentMessage:
    def test_retry_with_same_key_and_body_replays_without_duplicates(
        self, world: World, case: Case, session: Session
    ) -> None:
        path = f"/api/v1/escalations/{case.id}/messages"
        body = {"body": "Here is the invoice"}
        first = post(world.client, path, body, world.as_(OLA), "msg-1")
        assert first.status_code == 201, first.text
        counts = row_counts(session)
        retry = post(world.client, path, body, world.as_(OLA), "msg-1")
        assert (retry.status_code, retry.json()) == (201, first.json())
        assert row_counts(session) == counts
        thread = world.get(case.id, OLA).json()["thread"]
        assert [m["body"] for m in thread].count("Here is the invoice") == 1

    def test_same_key_with_different_body_is_422_idempotency_key_reused(
        self, world: World, case: Case, session: Session
    ) -> None:
        path = f"/api/v1/escalations/{case.id}/messages"
        assert post(world.client, path, {"body": "One"}, world.as_(OLA), "msg-1").status_code == 201
        counts = row_counts(session)
        other = post(world.client, path, {"body": "Two"}, world.as_(OLA), "msg-1")
        assert other.status_code == 422
        assert error_code(other) == "idempotency_key_reused"
        assert row_counts(session) == counts

    def test_same_key_from_staff_and_customer_are_independent(
        self, world: World, case: Case, session: Session
    ) -> None:
        path = f"/api/v1/escalations/{case.id}/messages"
        body = {"body": "Same words"}
        customer = post(world.client, path, body, world.as_(OLA), "msg-1")
        staff = post(world.client, path, body, world.as_(KARI), "msg-1")
        assert (customer.status_code, staff.status_code) == (201, 201)
        assert customer.json()["id"] != staff.json()["id"]
        assert staff.json()["author"]["role"] == "local_manager"
        assert row_counts(session)["escalation_messages"] == 3  # with the opening reason


class TestIdempotentResolve:
    def test_retry_with_same_key_replays_the_outcome_without_duplicates(
        self, world: World, case: Case, session: Session
    ) -> None:
        path = f"/api/v1/escalations/{case.id}/resolve"
        first = post(world.client, path, resolve_body(1), world.as_(KARI), "res-1")
        assert first.status_code == 200, first.text
        counts = row_counts(session)
        retry = post(world.client, path, resolve_body(1), world.as_(KARI), "res-1")
        assert (retry.status_code, retry.json()) == (200, first.json())
        assert row_counts(session) == counts
        timeline = world.get(case.id, KARI).json()["timeline"]
        assert [e["kind"] for e in timeline].count("status.resolved") == 1
        assert world.get(case.id, KARI).json()["version"] == first.json()["version"]

    def test_same_key_with_different_body_is_422_idempotency_key_reused(
        self, world: World, case: Case, session: Session
    ) -> None:
        path = f"/api/v1/escalations/{case.id}/resolve"
        first = post(world.client, path, resolve_body(1), world.as_(KARI), "res-1")
        assert first.status_code == 200
        counts = row_counts(session)
        other = post(world.client, path, resolve_body(1, "Other"), world.as_(KARI), "res-1")
        assert other.status_code == 422
        assert error_code(other) == "idempotency_key_reused"
        assert row_counts(session) == counts

    def test_without_a_key_a_repeat_is_a_conflict(self, world: World, case: Case) -> None:
        path = f"/api/v1/escalations/{case.id}/resolve"
        assert world.client.post(path, json=resolve_body(1), headers=world.as_(KARI)).is_success
        again = world.client.post(path, json=resolve_body(1), headers=world.as_(KARI))
        assert again.status_code == 409
        assert error_code(again) == "stale_version"
