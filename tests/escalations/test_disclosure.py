"""What customers see of a guardrail decision: no internal inputs; staff and ops see all."""

from __future__ import annotations

import json
from typing import Any

from direkte.guardrails.disclosure import customer_view
from tests.escalations.conftest import Case, World

INTERNAL = ("local_manager_id", "local_open", "deputy_id", "regional_manager_id", "regional_open")


def rules_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in body["guardrail"]["rules"]}


def test_customer_sees_no_internal_inputs(world: World, case: Case) -> None:
    for body in (
        case.body,
        world.get(case.id, "ola@example.no").json(),
        world.client.get(
            f"/api/v1/visits/{case.visit_id}", headers=world.as_("ola@example.no")
        ).json()["escalations"][0],
    ):
        text = json.dumps(body["guardrail"])
        assert not any(key in text for key in INTERNAL), text
        rules = rules_of(body)
        assert "capacity" not in rules
        assert set(rules["eligibility"]["inputs"]) == {"checks"}
        assert all(r["inputs"] == {} for name, r in rules.items() if name != "eligibility")
        assert body["guardrail"]["explanation"]
        assert body["guardrail"]["decision"] == "route"


def test_staff_and_ops_see_everything(world: World, case: Case) -> None:
    for email in ("kari@example.no", "ops@example.no"):
        body = world.get(case.id, email).json()
        capacity = rules_of(body)["capacity"]
        assert capacity["inputs"]["local_manager_id"] is not None
        assert "local_open" in capacity["inputs"]


def test_held_content_note_names_no_phrases() -> None:
    guardrail = {
        "decision": "moderate",
        "rules": [
            {"rule": "content", "passed": False, "inputs": {"matches": ["x"]}, "note": "held: x"}
        ],
    }
    [rule] = customer_view(guardrail)["rules"]
    assert rule == {
        "rule": "content",
        "passed": False,
        "inputs": {},
        "note": "held for a human check",
    }
