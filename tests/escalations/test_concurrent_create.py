"""Requests racing on one visit: the visit's lock makes them decide one after another.

On PostgreSQL the create's reads go in one pipeline after the lock (direkte.direct):
each statement after the lock must see what the request before it committed, or two
requests for one subject would each open a case.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from direkte.escalations.models import Escalation, EscalationRequest
from tests.factories import login, push_visit
from tests.visits.test_concurrency import WORKERS, LiveApp, all_at_once, count, live

__all__ = ["live"]  # the fixture, shared with the visits' races


def test_racing_requests_on_one_subject_open_one_case(live: LiveApp) -> None:
    client = live.make_client()
    visit_id = push_visit(client, live.key)
    diagnosis = client.post(
        "/api/v1/integration/visits/RO-1/diagnoses",
        json={"findings": "Pads worn", "codes": ["C1101"], "safety_related": False},
        headers={"X-API-Key": live.key},
    )
    assert diagnosis.status_code == 201, diagnosis.text
    customer = login(client, "ola@example.no")

    def escalate(client: TestClient, i: int) -> tuple[int, int]:
        response = client.post(
            f"/api/v1/visits/{visit_id}/escalations",
            json={
                "category": "diagnosis",
                "subject_id": diagnosis.json()["id"],
                "reason": f"The pads were changed last month ({i})",
            },
            headers=customer,
        )
        assert response.status_code in (200, 201), response.text
        return response.status_code, int(response.json()["id"])

    answers = all_at_once(live, WORKERS, escalate)
    assert sorted(status for status, _ in answers) == [200] * (WORKERS - 1) + [201]
    assert len({case for _, case in answers}) == 1  # every fold names the one case
    assert count(live.sessions, sa.select(Escalation.id)) == 1
    assert count(live.sessions, sa.select(EscalationRequest.id)) == WORKERS
