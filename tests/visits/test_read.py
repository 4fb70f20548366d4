"""The customer's and staff's reads of visits, and the customer's approval of an estimate."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from direkte.network.models import User
from tests.factories import login, make_vin, push_visit
from tests.visits.helpers import error_code, error_fields, events, line, post_integration

VISIT_KEYS = {
    "id",
    "external_id",
    "status",
    "center",
    "vehicle",
    "concern",
    "diagnoses",
    "estimates",
    "warranty_decisions",
    "escalations",
    "escalation_contacts",
}


def vehicle(seed: int) -> dict[str, object]:
    return {"vin": make_vin(seed), "model": "Model 3", "model_year": 2021, "odometer_km": 1000}


def user_id(session: Session, email: str) -> int:
    found = session.scalar(sa.select(User.id).where(User.email == email))
    assert found is not None
    return found


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.fixture
def fleet(client: TestClient, key: str) -> dict[str, int]:
    """Visits by external id: three of Ola's at OSL-01, Eva's at OSL-01, Ola's at
    OSL-02 (program off) and Mads's at CPH-01."""
    ids = {}
    for i, (external_id, email, center) in enumerate(
        [
            ("OLA-1", "ola@example.no", "OSL-01"),
            ("OLA-2", "ola@example.no", "OSL-01"),
            ("EVA-1", "eva@example.no", "OSL-01"),
            ("OLA-3", "ola@example.no", "OSL-01"),
            ("OLA-OFF", "ola@example.no", "OSL-02"),
            ("MADS-1", "mads@example.dk", "CPH-01"),
        ]
    ):
        owner_seed = {"ola@example.no": 1, "eva@example.no": 2, "mads@example.dk": 3}[email]
        ids[external_id] = push_visit(
            client,
            key,
            external_id,
            customer_email=email,
            center=center,
            vehicle=vehicle(owner_seed),
            concern=f"Concern {i}",
        )
    return ids


class TestListMyVisits:
    def test_customer_sees_only_own_visits_newest_first(
        self, client: TestClient, fleet: dict[str, int]
    ) -> None:
        response = client.get("/api/v1/me/visits", headers=login(client, "ola@example.no"))
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        assert [v["external_id"] for v in body["items"]] == ["OLA-OFF", "OLA-3", "OLA-2", "OLA-1"]
        assert body["next_cursor"] is None
        assert set(body["items"][0]) >= VISIT_KEYS

    def test_customer_without_visits_gets_an_empty_page(self, client: TestClient, key: str) -> None:
        response = client.get("/api/v1/me/visits", headers=login(client, "eva@example.no"))
        assert response.json() == {"items": [], "next_cursor": None}

    def test_pages_follow_the_cursor_to_the_end(
        self, client: TestClient, fleet: dict[str, int]
    ) -> None:
        headers = login(client, "ola@example.no")
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/api/v1/me/visits", params=params, headers=headers).json()
            pages += 1
            assert len(body["items"]) <= 3
            seen += [v["external_id"] for v in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert pages == 2
        assert seen == ["OLA-OFF", "OLA-3", "OLA-2", "OLA-1"]

    def test_exact_page_has_no_next_cursor(self, client: TestClient, fleet: dict[str, int]) -> None:
        headers = login(client, "ola@example.no")
        body = client.get("/api/v1/me/visits", params={"limit": 4}, headers=headers).json()
        assert len(body["items"]) == 4
        assert body["next_cursor"] is None

    def test_limit_one_walks_every_visit(self, client: TestClient, fleet: dict[str, int]) -> None:
        headers = login(client, "ola@example.no")
        first = client.get("/api/v1/me/visits", params={"limit": 1}, headers=headers).json()
        assert [v["external_id"] for v in first["items"]] == ["OLA-OFF"]
        second = client.get(
            "/api/v1/me/visits",
            params={"limit": 1, "cursor": first["next_cursor"]},
            headers=headers,
        ).json()
        assert [v["external_id"] for v in second["items"]] == ["OLA-3"]

    @pytest.mark.parametrize("limit", [0, 201, -1])
    def test_limit_out_of_range_is_422(
        self, client: TestClient, fleet: dict[str, int], limit: int
    ) -> None:
        response = client.get(
            "/api/v1/me/visits", params={"limit": limit}, headers=login(client, "ola@example.no")
        )
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["limit"]

    def test_limit_200_is_accepted(self, client: TestClient, fleet: dict[str, int]) -> None:
        response = client.get(
            "/api/v1/me/visits", params={"limit": 200}, headers=login(client, "ola@example.no")
        )
        assert response.status_code == 200
        assert len(response.json()["items"]) == 4

    @pytest.mark.parametrize(
        "cursor",
        [
            "not-a-cursor!",
            "%%%",
            cursor_of("x:5"),
            cursor_of("i:5"),
            cursor_of("v:0"),
            cursor_of("v:abc"),
            cursor_of("v:99999999999999999999999"),
            cursor_of("v:-5"),
            base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        ],
    )
    def test_bad_cursor_is_400_in_the_error_format(
        self, client: TestClient, fleet: dict[str, int], cursor: str
    ) -> None:
        response = client.get(
            "/api/v1/me/visits",
            params={"cursor": cursor},
            headers=login(client, "ola@example.no"),
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["code"] == "invalid_cursor"
        assert error_fields(response) == ["cursor"]

    @pytest.mark.parametrize(
        ("email", "expected"),
        [
            ("siv@example.no", {"OLA-1", "OLA-2", "EVA-1", "OLA-3"}),
            ("kari@example.no", {"OLA-1", "OLA-2", "EVA-1", "OLA-3"}),
            ("ove@example.no", {"OLA-OFF"}),
            ("lars@example.no", {"OLA-1", "OLA-2", "EVA-1", "OLA-3", "OLA-OFF"}),
            ("dorte@example.dk", {"MADS-1"}),
            ("ops@example.no", {"OLA-1", "OLA-2", "EVA-1", "OLA-3", "OLA-OFF", "MADS-1"}),
        ],
    )
    def test_staff_see_the_visits_of_their_center_or_region(
        self, client: TestClient, fleet: dict[str, int], email: str, expected: set[str]
    ) -> None:
        response = client.get("/api/v1/me/visits", headers=login(client, email))
        assert {v["external_id"] for v in response.json()["items"]} == expected

    def test_without_a_token_is_401(self, client: TestClient, fleet: dict[str, int]) -> None:
        response = client.get("/api/v1/me/visits")
        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"

    def test_with_a_forged_token_is_401(self, client: TestClient, fleet: dict[str, int]) -> None:
        response = client.get("/api/v1/me/visits", headers={"Authorization": "Bearer not.a.token"})
        assert response.status_code == 401
        assert error_code(response) == "invalid_token"

    def test_listing_records_each_reveal(
        self, client: TestClient, fleet: dict[str, int], session: Session
    ) -> None:
        client.get("/api/v1/me/visits", headers=login(client, "ola@example.no"))
        reveals = events(session, "contact.revealed")
        # Three visits at the pilot center, two contacts each; none at the off center.
        assert sorted(e.visit_id for e in reveals if e.visit_id is not None) == sorted(
            [fleet["OLA-1"], fleet["OLA-2"], fleet["OLA-3"]] * 2
        )


class TestGetVisit:
    @pytest.mark.parametrize(
        ("email", "status"),
        [
            ("ola@example.no", 200),
            ("eva@example.no", 404),
            ("mads@example.dk", 404),
            ("siv@example.no", 200),
            ("kari@example.no", 200),
            ("per@example.no", 200),
            ("ove@example.no", 404),
            ("mette@example.dk", 404),
            ("lars@example.no", 200),
            ("dorte@example.dk", 404),
            ("ops@example.no", 200),
        ],
    )
    def test_visibility_by_role(
        self, client: TestClient, fleet: dict[str, int], email: str, status: int
    ) -> None:
        response = client.get(f"/api/v1/visits/{fleet['OLA-1']}", headers=login(client, email))
        assert response.status_code == status
        if status == 200:
            assert response.json()["external_id"] == "OLA-1"
        else:
            assert error_code(response) == "visit_not_found"

    def test_unknown_visit_is_the_same_404(self, client: TestClient, fleet: dict[str, int]) -> None:
        headers = login(client, "eva@example.no")
        unknown = client.get("/api/v1/visits/987654", headers=headers)
        hidden = client.get(f"/api/v1/visits/{fleet['OLA-1']}", headers=headers)
        assert unknown.status_code == hidden.status_code == 404
        assert error_code(unknown) == error_code(hidden) == "visit_not_found"

    @pytest.mark.parametrize("visit_id", ["99999999999999999999999", "2147483648", "-1", "0"])
    def test_out_of_range_id_is_422_not_a_500(
        self, client: TestClient, fleet: dict[str, int], visit_id: str
    ) -> None:
        response = client.get(f"/api/v1/visits/{visit_id}", headers=login(client, "ops@example.no"))
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["visit_id"]

    def test_non_numeric_id_is_422(self, client: TestClient, fleet: dict[str, int]) -> None:
        response = client.get("/api/v1/visits/OLA-1", headers=login(client, "ops@example.no"))
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["visit_id"]

    def test_without_a_token_is_401(self, client: TestClient, fleet: dict[str, int]) -> None:
        response = client.get(f"/api/v1/visits/{fleet['OLA-1']}")
        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"

    def test_visit_carries_its_revisions_and_contacts(
        self, client: TestClient, key: str, fleet: dict[str, int]
    ) -> None:
        post_integration(client, key, "OLA-1", "diagnoses", {"findings": "Worn pads"})
        post_integration(
            client, key, "OLA-1", "estimates", {"lines": [line("100.00")], "reason": "pads"}
        )
        post_integration(
            client,
            key,
            "OLA-1",
            "warranty-decisions",
            {"decision": "not_covered", "claimed": "100.00", "covered": "0", "reason_code": "WEAR"},
        )
        body = client.get(
            f"/api/v1/visits/{fleet['OLA-1']}", headers=login(client, "ola@example.no")
        ).json()
        assert set(body) >= VISIT_KEYS
        assert [d["findings"] for d in body["diagnoses"]] == ["Worn pads"]
        assert [e["total"] for e in body["estimates"]] == [{"amount": "100.00", "currency": "NOK"}]
        assert [w["decision"] for w in body["warranty_decisions"]] == ["not_covered"]
        assert body["escalations"] == []
        assert [c["role"] for c in body["escalation_contacts"]] == [
            "local_manager",
            "regional_manager",
        ]
        contact = body["escalation_contacts"][0]
        assert {"role", "name", "title", "languages", "phone", "channels", "available_now"} <= set(
            contact
        )
        assert contact["channels"] == ["message", "phone"]
        assert contact["phone"] == "+4791234567"
        assert contact["languages"] == ["nb", "en"]
        assert body["center"]["code"] == "OSL-01"
        assert body["currency"] == "NOK"

    def test_staff_also_see_contacts_and_empty_lists(
        self, client: TestClient, fleet: dict[str, int]
    ) -> None:
        body = client.get(
            f"/api/v1/visits/{fleet['OLA-2']}", headers=login(client, "siv@example.no")
        ).json()
        assert (body["diagnoses"], body["estimates"], body["warranty_decisions"]) == ([], [], [])
        assert body["escalations"] == []
        assert len(body["escalation_contacts"]) == 2


def add_estimate(
    client: TestClient, key: str, external_id: str, price: str, **extra: object
) -> int:
    response = post_integration(
        client, key, external_id, "estimates", {"lines": [line(price)], **extra}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def approve_url(visit_id: int, estimate_id: int) -> str:
    return f"/api/v1/visits/{visit_id}/estimates/{estimate_id}/approve"


class TestApproveEstimate:
    def test_owner_approves_and_it_is_audited(
        self,
        client: TestClient,
        key: str,
        fleet: dict[str, int],
        session: Session,
        clock: FixedClock,
    ) -> None:
        visit_id = fleet["OLA-1"]
        estimate_id = add_estimate(client, key, "OLA-1", "100.00")
        clock.advance(timedelta(minutes=5))
        response = client.post(
            approve_url(visit_id, estimate_id), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["id"], body["approved"]) == (estimate_id, True)
        assert datetime.fromisoformat(body["approved_at"]) == datetime(
            2026, 11, 18, 9, 5, tzinfo=UTC
        )
        approvals = events(session, "estimate.approved", visit_id)
        assert len(approvals) == 1
        assert (approvals[0].actor_kind, approvals[0].actor_id) == (
            "user",
            user_id(session, "ola@example.no"),
        )
        assert approvals[0].subject_id == estimate_id
        shown = client.get(
            f"/api/v1/visits/{visit_id}", headers=login(client, "ola@example.no")
        ).json()
        assert shown["estimates"][0]["approved"] is True

    def test_approving_again_is_200_and_changes_nothing(
        self,
        client: TestClient,
        key: str,
        fleet: dict[str, int],
        session: Session,
        clock: FixedClock,
    ) -> None:
        visit_id = fleet["OLA-1"]
        estimate_id = add_estimate(client, key, "OLA-1", "100.00")
        headers = login(client, "ola@example.no")
        first = client.post(approve_url(visit_id, estimate_id), headers=headers)
        clock.advance(timedelta(hours=1))
        second = client.post(approve_url(visit_id, estimate_id), headers=headers)
        assert second.status_code == 200
        assert second.json()["approved_at"] == first.json()["approved_at"]
        assert len(events(session, "estimate.approved", visit_id)) == 1

    def test_older_revision_is_409_superseded(
        self, client: TestClient, key: str, fleet: dict[str, int], session: Session
    ) -> None:
        visit_id = fleet["OLA-1"]
        older = add_estimate(client, key, "OLA-1", "100.00")
        add_estimate(client, key, "OLA-1", "180.00")
        response = client.post(
            approve_url(visit_id, older), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 409
        assert error_code(response) == "estimate_superseded"
        assert events(session, "estimate.approved", visit_id) == []

    def test_newest_revision_can_be_approved(
        self, client: TestClient, key: str, fleet: dict[str, int]
    ) -> None:
        visit_id = fleet["OLA-1"]
        add_estimate(client, key, "OLA-1", "100.00")
        newest = add_estimate(client, key, "OLA-1", "180.00")
        response = client.post(
            approve_url(visit_id, newest), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 200
        assert response.json()["revision"] == 2

    def test_counter_approved_older_revision_is_still_200(
        self, client: TestClient, key: str, fleet: dict[str, int]
    ) -> None:
        visit_id = fleet["OLA-1"]
        older = add_estimate(client, key, "OLA-1", "100.00", approved=True)
        add_estimate(client, key, "OLA-1", "180.00")
        response = client.post(
            approve_url(visit_id, older), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 200
        assert response.json()["approved"] is True

    def test_another_customer_is_404(
        self, client: TestClient, key: str, fleet: dict[str, int], session: Session
    ) -> None:
        visit_id = fleet["OLA-1"]
        estimate_id = add_estimate(client, key, "OLA-1", "100.00")
        response = client.post(
            approve_url(visit_id, estimate_id), headers=login(client, "eva@example.no")
        )
        assert response.status_code == 404
        assert error_code(response) == "visit_not_found"
        assert events(session, "estimate.approved") == []

    def test_estimate_of_another_visit_is_404(
        self, client: TestClient, key: str, fleet: dict[str, int], session: Session
    ) -> None:
        other_estimate = add_estimate(client, key, "OLA-2", "100.00")
        response = client.post(
            approve_url(fleet["OLA-1"], other_estimate), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 404
        assert error_code(response) == "estimate_not_found"
        assert events(session, "estimate.approved") == []

    def test_out_of_range_estimate_id_is_422_not_a_500(
        self, client: TestClient, fleet: dict[str, int]
    ) -> None:
        response = client.post(
            approve_url(fleet["OLA-1"], 2**40), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["estimate_id"]

    def test_unknown_estimate_is_404(self, client: TestClient, fleet: dict[str, int]) -> None:
        response = client.post(
            approve_url(fleet["OLA-1"], 424242), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 404
        assert error_code(response) == "estimate_not_found"

    def test_staff_cannot_approve_for_the_customer(
        self, client: TestClient, key: str, fleet: dict[str, int], session: Session
    ) -> None:
        estimate_id = add_estimate(client, key, "OLA-1", "100.00")
        response = client.post(
            approve_url(fleet["OLA-1"], estimate_id), headers=login(client, "siv@example.no")
        )
        assert response.status_code == 403
        assert error_code(response) == "customers_only"
        assert events(session, "estimate.approved") == []

    @pytest.mark.parametrize("status", ["cancelled", "closed"])
    def test_finished_visit_is_409(
        self, client: TestClient, key: str, fleet: dict[str, int], status: str
    ) -> None:
        estimate_id = add_estimate(client, key, "OLA-1", "100.00")
        push_visit(client, key, "OLA-1", status=status, vehicle=vehicle(1), concern="Concern 0")
        response = client.post(
            approve_url(fleet["OLA-1"], estimate_id), headers=login(client, "ola@example.no")
        )
        assert response.status_code == 409
        assert error_code(response) == "visit_closed"
