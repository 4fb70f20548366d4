"""The integration pushes and the customer's reads, through HTTP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.audit.models import AuditEvent
from direkte.clock import FixedClock
from tests.factories import login, make_api_key, make_network, push_visit, visit_body


@pytest.fixture
def key(session: Session, clock: FixedClock) -> str:
    make_network(session, clock)
    return make_api_key(session, clock)


class TestUpsertVisit:
    def test_first_put_creates_then_updates(self, client: TestClient, key: str) -> None:
        first = client.put(
            "/api/v1/integration/visits/RO-1", json=visit_body(), headers={"X-API-Key": key}
        )
        assert first.status_code == 201
        second = client.put(
            "/api/v1/integration/visits/RO-1",
            json=visit_body(status="diagnosing"),
            headers={"X-API-Key": key},
        )
        assert second.status_code == 200
        assert second.json()["id"] == first.json()["id"]
        assert second.json()["status"] == "diagnosing"

    def test_unknown_center_names_the_field(self, client: TestClient, key: str) -> None:
        response = client.put(
            "/api/v1/integration/visits/RO-1",
            json=visit_body(center="NOPE-1"),
            headers={"X-API-Key": key},
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
        assert [d["field"] for d in response.json()["error"]["details"]] == ["center"]

    def test_missing_key_is_401(self, client: TestClient, key: str) -> None:
        response = client.put("/api/v1/integration/visits/RO-1", json=visit_body())
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


class TestEstimates:
    def test_total_is_exact(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        response = client.post(
            "/api/v1/integration/visits/RO-1/estimates",
            json={
                "lines": [
                    {"kind": "part", "description": "Pads", "quantity": "3", "unit_price": "0.10"},
                    {
                        "kind": "labour",
                        "description": "Fit",
                        "quantity": "1.5",
                        "unit_price": "1350.05",
                    },
                ],
                "reason": "first",
            },
            headers={"X-API-Key": key},
        )
        assert response.status_code == 201, response.text
        # 0.30 + 2025.075 rounded half up at the line: 2025.08
        assert response.json()["total"] == {"amount": "2025.38", "currency": "NOK"}


class TestReadVisit:
    def test_customer_sees_contacts_and_reveal_is_audited(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = push_visit(client, key)
        headers = login(client, "ola@example.no")
        response = client.get(f"/api/v1/visits/{visit_id}", headers=headers)
        assert response.status_code == 200
        contacts = response.json()["escalation_contacts"]
        assert [(c["role"], c["name"]) for c in contacts] == [
            ("local_manager", "Kari Nordmann"),
            ("regional_manager", "Lars Berg"),
        ]
        assert all(c["available_now"] for c in contacts)
        reveals = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "contact.revealed")
        ).all()
        assert len(reveals) == 2
        assert {r.visit_id for r in reveals} == {visit_id}

    def test_another_customers_visit_is_404(self, client: TestClient, key: str) -> None:
        visit_id = push_visit(client, key)
        response = client.get(f"/api/v1/visits/{visit_id}", headers=login(client, "eva@example.no"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "visit_not_found"
