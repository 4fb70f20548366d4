"""The full guardrails at work through HTTP: moderation, tier 0, frequency, near-duplicates."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.escalations.models import EscalationRequest
from direkte.notifications.models import OutboxEvent
from tests.escalations.conftest import World, error_code

THREAT = "Fiks bilen, ellers kommer jeg og stikker deg ned"


def _rules(case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in case["guardrail"]["rules"]}


class TestModeration:
    def test_threat_is_held_and_only_ops_are_told(self, world: World, session: Session) -> None:
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        held = world.escalate(visit_id, diagnosis_id, reason=THREAT)
        assert held.status_code == 201, held.text
        case = held.json()
        assert case["status"] == "held"
        assert case["guardrail"]["decision"] == "moderate"
        assert case["assignee"] is None
        assert _rules(case)["content"]["passed"] is False
        inbox = world.client.get("/api/v1/inbox", headers=world.as_("kari@example.no"))
        assert inbox.json()["items"] == []
        recipients = session.scalars(sa.select(OutboxEvent.recipients)).all()
        ops = session.scalars(sa.text("select id from users where role = 'ops_admin'")).all()
        assert ops
        assert recipients == [sorted(ops)]

    def test_ops_approve_routes_it_as_the_policy_says(self, world: World) -> None:
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        case_id = world.escalate(visit_id, diagnosis_id, reason=THREAT).json()["id"]
        listed = world.client.get("/api/v1/moderation/held", headers=world.as_("ops@example.no"))
        assert [c["id"] for c in listed.json()["items"]] == [case_id]
        approved = world.client.post(
            f"/api/v1/moderation/{case_id}/approve", headers=world.as_("ops@example.no")
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "open"
        assert approved.json()["tier"] == 1
        assert approved.json()["assignee"]["name"] == "Kari Nordmann"
        assert approved.json()["sla"]["first_response_due"] is not None

    def test_the_queue_names_each_category_and_the_words(self, world: World) -> None:
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        reason = "I know which school your mechanic's kids go to. Fix my car."
        case_id = world.escalate(visit_id, diagnosis_id, reason=reason).json()["id"]
        listed = world.client.get("/api/v1/moderation/held", headers=world.as_("ops@example.no"))
        [item] = listed.json()["items"]
        assert item["id"] == case_id
        assert item["reason"] == reason  # nothing of the request is lost
        moderation = item["moderation"]
        assert moderation["categories"] == ["family_threat"]
        assert moderation["language"] == "en"
        [evidence] = moderation["evidence"]
        assert evidence["category"] == "family_threat"
        assert evidence["list"] == "en"
        assert evidence["words"].startswith("know which")  # as normalized: "schol"
        content = _rules(item)["content"]["inputs"]
        assert content["categories"] == ["family_threat"]
        assert content["evidence"] == moderation["evidence"]

    def test_ops_reject_tells_the_customer_why(self, world: World) -> None:
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        case_id = world.escalate(visit_id, diagnosis_id, reason=THREAT).json()["id"]
        rejected = world.client.post(
            f"/api/v1/moderation/{case_id}/reject",
            json={"reason": "Threats are not accepted."},
            headers=world.as_("ops@example.no"),
        )
        assert rejected.status_code == 200, rejected.text
        seen = world.get(case_id, "ola@example.no").json()
        assert seen["status"] == "rejected"
        assert seen["rejection_reason"] == "Threats are not accepted."
        again = world.client.post(
            f"/api/v1/moderation/{case_id}/approve", headers=world.as_("ops@example.no")
        )
        assert again.status_code == 409
        assert error_code(again) == "invalid_transition"

    def test_only_ops_moderate(self, world: World) -> None:
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        case_id = world.escalate(visit_id, diagnosis_id, reason=THREAT).json()["id"]
        refused = world.client.post(
            f"/api/v1/moderation/{case_id}/approve", headers=world.as_("kari@example.no")
        )
        assert refused.status_code == 403
        assert error_code(refused) == "ops_only"


class TestMateriality:
    def test_minor_diagnosis_goes_to_the_advisor(self, world: World) -> None:
        visit_id = world.visit()
        minor = world.client.post(
            "/api/v1/integration/visits/RO-1/diagnoses",
            json={"findings": "Wiper blade worn", "codes": ["W01"], "safety_related": False},
            headers={"X-API-Key": world.key},
        ).json()["id"]
        case = world.escalate(visit_id, minor, reason="I do not think the wiper is worn").json()
        assert case["tier"] == 0
        assert case["assignee"] == {"name": "Siv Advisor", "role": "service_advisor"}
        assert _rules(case)["materiality"]["passed"] is False
        assert "Siv Advisor" in case["guardrail"]["explanation"]


class TestDuplicates:
    def test_near_identical_text_on_another_subject_folds(
        self, world: World, session: Session
    ) -> None:
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        first = world.escalate(visit_id, diagnosis_id, reason="The brakes were done last month!")
        estimate = world.client.post(
            "/api/v1/integration/visits/RO-1/estimates",
            json={
                "lines": [
                    {"kind": "part", "description": "Pads", "quantity": "1", "unit_price": "900.00"}
                ]
            },
            headers={"X-API-Key": world.key},
        ).json()["id"]
        again = world.escalate(
            visit_id, estimate, category="estimate", reason="The brakes were done last month"
        )
        assert again.status_code == 200
        assert again.json()["folded"] is True
        assert again.json()["id"] == first.json()["id"]
        assert session.scalar(sa.select(sa.func.count(EscalationRequest.id))) == 2


class TestRegionalPolicy:
    def test_the_centers_region_override_decides_and_its_version_is_recorded(
        self, world: World, session: Session
    ) -> None:
        # NO-EAST (OSL-01's region) takes no diagnosis cases; DK's override does not
        # apply here. The policy is read with the visit, in the same statement.
        document = {
            "global": {},
            "regions": {
                "NO-EAST": {"allowed_categories": ["estimate", "warranty"]},
                "DK": {"allowed_categories": ["diagnosis"]},
            },
        }
        published = world.client.put(
            "/api/v1/policy",
            json={"document": document, "version": 0},
            headers=world.as_("ops@example.no"),
        )
        assert published.status_code == 200, published.text
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        refused = world.escalate(visit_id, diagnosis_id)
        assert refused.status_code == 422, refused.text
        assert error_code(refused) == "not_eligible"
        details = refused.json()["error"]["details"]
        assert details["policy_version"] == "1"
        assert details["reason"] == "not_eligible.category_allowed"
        recorded = session.execute(
            sa.select(EscalationRequest.decision, EscalationRequest.policy_version)
        ).one()
        assert tuple(recorded) == ("reject", "1")
