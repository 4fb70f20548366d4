"""POST /visits/{id}/escalations/preview: what the guardrails would decide, nothing kept."""

from __future__ import annotations

from httpx import Response
from sqlalchemy.orm import Session

from tests.escalations.conftest import World, error_code, row_counts


def preview(
    world: World, visit_id: int, body: dict[str, object], email: str = "ola@example.no"
) -> Response:
    return world.client.post(
        f"/api/v1/visits/{visit_id}/escalations/preview", json=body, headers=world.as_(email)
    )


class TestPreviewEscalation:
    def test_routed_request_names_the_manager_and_due_times_and_records_nothing(
        self, world: World, session: Session
    ) -> None:
        visit_id = world.visit()
        diagnosis_id = world.diagnosis()
        before = row_counts(session)
        response = preview(
            world,
            visit_id,
            {"category": "diagnosis", "subject_id": diagnosis_id, "reason": "Same noise again"},
        )
        assert response.status_code == 200, response.text
        guardrail = response.json()["guardrail"]
        assert guardrail["decision"] == "route"
        assert guardrail["tier"] == 1
        assert guardrail["assignee"] == {"name": "Kari Nordmann", "role": "local_manager"}
        assert guardrail["sla"]["first_response_due"] is not None
        assert guardrail["explanation"]
        # A customer sees no internal inputs, as in the escalation itself.
        assert all(rule["rule"] != "capacity" for rule in guardrail["rules"])
        assert row_counts(session) == before
        # The same request, sent, is decided the same way.
        opened = world.escalate(visit_id, diagnosis_id, reason="Same noise again")
        assert opened.status_code == 201
        assert opened.json()["assignee"]["name"] == "Kari Nordmann"
        assert opened.json()["sla"]["first_response_due"] == guardrail["sla"]["first_response_due"]

    def test_reason_is_optional(self, world: World) -> None:
        visit_id = world.visit()
        diagnosis_id = world.diagnosis()
        response = preview(world, visit_id, {"category": "diagnosis", "subject_id": diagnosis_id})
        assert response.status_code == 200, response.text

    def test_a_subject_of_another_visit_previews_a_rejection(self, world: World) -> None:
        visit_id = world.visit()
        response = preview(world, visit_id, {"category": "estimate", "subject_id": 999_999})
        assert response.status_code == 200, response.text
        guardrail = response.json()["guardrail"]
        assert guardrail["decision"] == "reject"
        assert guardrail["assignee"] is None
        assert guardrail["explanation"]

    def test_a_duplicate_previews_the_fold(self, world: World) -> None:
        visit_id = world.visit()
        diagnosis_id = world.diagnosis()
        opened = world.escalate(visit_id, diagnosis_id)
        response = preview(
            world, visit_id, {"category": "diagnosis", "subject_id": diagnosis_id, "reason": "x"}
        )
        assert response.json()["guardrail"]["folded_into"] == opened.json()["id"]

    def test_someone_elses_visit_is_not_found(self, world: World) -> None:
        visit_id = world.visit()
        diagnosis_id = world.diagnosis()
        body = {"category": "diagnosis", "subject_id": diagnosis_id}
        response = preview(world, visit_id, body, email="mads@example.dk")
        assert response.status_code == 404
        assert error_code(response) == "visit_not_found"

    def test_staff_may_not_preview(self, world: World) -> None:
        visit_id = world.visit()
        diagnosis_id = world.diagnosis()
        body = {"category": "diagnosis", "subject_id": diagnosis_id}
        response = preview(world, visit_id, body, email="kari@example.no")
        assert response.status_code == 403
        assert error_code(response) == "customers_only"
