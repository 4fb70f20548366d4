"""The dealer-management integration's pushes (API.md, "Integration"), through HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.auth.service import revoke_api_key
from direkte.clock import FixedClock
from direkte.fields import AMOUNT_PATTERN, QUANTITY_PATTERN
from direkte.visits.models import Estimate, Vehicle, Visit, VisitStatusChange
from tests.factories import login, make_api_key, make_network, make_vin, network_doc, push_visit
from tests.visits.helpers import (
    API_KEY_NAME,
    error_code,
    error_fields,
    events,
    line,
    post_integration,
    put_visit,
)


def status_changes(session: Session, visit_id: int) -> list[VisitStatusChange]:
    return list(
        session.scalars(
            sa.select(VisitStatusChange)
            .where(VisitStatusChange.visit_id == visit_id)
            .order_by(VisitStatusChange.id)
            .execution_options(populate_existing=True)
        )
    )


def read_visit(client: TestClient, visit_id: int) -> dict[str, Any]:
    """The visit as ops sees it (ops see every visit)."""
    response = client.get(f"/api/v1/visits/{visit_id}", headers=login(client, "ops@example.no"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def with_check_digit_broken(vin: str) -> str:
    wrong = "0" if vin[8] != "0" else "1"
    return vin[:8] + wrong + vin[9:]


class TestUpsertVisit:
    def test_new_external_id_is_201_and_same_id_again_is_200(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        first = put_visit(client, key)
        second = put_visit(client, key, status="diagnosing")
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"]
        assert first.json()["external_id"] == "RO-1"
        count = session.scalar(sa.select(sa.func.count()).select_from(Visit))
        assert count == 1

    def test_same_body_twice_changes_nothing(
        self, client: TestClient, key: str, session: Session, clock: FixedClock
    ) -> None:
        visit_id = put_visit(client, key).json()["id"]
        before = read_visit(client, visit_id)
        clock.advance(timedelta(hours=1))
        again = put_visit(client, key)
        assert again.status_code == 200
        assert again.json()["id"] == visit_id
        assert events(session, "visit.updated", visit_id) == []
        assert len(status_changes(session, visit_id)) == 1
        assert read_visit(client, visit_id) == before
        updated_at = session.scalar(
            sa.select(Visit.updated_at)
            .where(Visit.id == visit_id)
            .execution_options(populate_existing=True)
        )
        assert updated_at == datetime(2026, 11, 18, 9, 0, tzinfo=UTC)

    def test_changed_field_is_updated_and_audited_once(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = put_visit(client, key).json()["id"]
        response = put_visit(client, key, concern="Squeal when braking", drivable=False)
        assert response.status_code == 200
        updates = events(session, "visit.updated", visit_id)
        assert [e.data["fields"] for e in updates] == [["concern", "drivable"]]
        assert updates[0].actor_label == API_KEY_NAME
        visit = read_visit(client, visit_id)
        assert (visit["concern"], visit["drivable"]) == ("Squeal when braking", False)

    def test_creation_is_audited_with_the_key(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = put_visit(client, key).json()["id"]
        created = events(session, "visit.created", visit_id)
        assert len(created) == 1
        assert (created[0].actor_kind, created[0].actor_label) == ("api_key", API_KEY_NAME)
        assert created[0].data == {"external_id": "RO-1"}

    def test_new_vehicle_gets_default_warranty(self, client: TestClient, key: str) -> None:
        visit_id = put_visit(client, key).json()["id"]
        vehicle = read_visit(client, visit_id)["vehicle"]
        assert vehicle["vin"] == make_vin()
        assert {c["kind"] for c in vehicle["warranty"]} == {"basic", "battery_drive_unit"}

    def test_vehicle_changes_and_new_coverages_replace_the_old(
        self, client: TestClient, key: str, session: Session, clock: FixedClock
    ) -> None:
        visit_id = put_visit(client, key).json()["id"]
        created_at = session.scalar(sa.select(Vehicle.updated_at))
        clock.advance(timedelta(hours=1))
        vehicle = {
            "vin": make_vin(),
            "model": "Model Y",
            "model_year": 2023,
            "odometer_km": 1234,
            "warranty": [{"kind": "basic", "years": 5, "distance_km": 100_000}],
        }
        assert put_visit(client, key, vehicle=vehicle).status_code == 200
        shown = read_visit(client, visit_id)["vehicle"]
        assert shown["odometer_km"] == 1234
        assert [(c["kind"], c["years"], c["distance_km"]) for c in shown["warranty"]] == [
            ("basic", 5, 100_000)
        ]
        updated_at = session.scalar(
            sa.select(Vehicle.updated_at).execution_options(populate_existing=True)
        )
        assert updated_at == created_at + timedelta(hours=1)
        clock.advance(timedelta(hours=1))
        # The same vehicle again: nothing changes, not even its updated_at.
        assert put_visit(client, key, vehicle=vehicle).status_code == 200
        assert read_visit(client, visit_id)["vehicle"] == shown
        again = session.scalar(
            sa.select(Vehicle.updated_at).execution_options(populate_existing=True)
        )
        assert again == updated_at

    def test_lowercase_vin_is_stored_uppercase(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        vehicle = {
            "vin": make_vin(7).lower(),
            "model": "Model Y",
            "model_year": 2023,
            "odometer_km": 1000,
        }
        assert put_visit(client, key, vehicle=vehicle).status_code == 201
        assert session.scalar(sa.select(Vehicle.vin)) == make_vin(7)

    def test_unknown_customer_email_is_422_naming_the_field(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        response = put_visit(client, key, customer_email="nobody@example.no")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["customer_email"]
        assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0

    def test_staff_email_as_customer_is_422(self, client: TestClient, key: str) -> None:
        response = put_visit(client, key, customer_email="kari@example.no")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["customer_email"]

    def test_advisor_of_another_center_is_422(self, client: TestClient, key: str) -> None:
        response = put_visit(client, key, advisor_email="ove@example.no")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["advisor_email"]

    @pytest.mark.parametrize("wmi", ["5YJ", "1HG", "LRW"])
    def test_bad_check_digit_where_the_market_uses_it_is_422(
        self, client: TestClient, key: str, wmi: str
    ) -> None:
        vin = with_check_digit_broken(make_vin(3, wmi=wmi))
        vehicle = {"vin": vin, "model": "Model 3", "model_year": 2021, "odometer_km": 10}
        response = put_visit(client, key, vehicle=vehicle)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["vehicle.vin"]

    def test_european_vin_without_check_digit_is_accepted(
        self, client: TestClient, key: str
    ) -> None:
        vin = with_check_digit_broken(make_vin(3, wmi="YV1"))
        vehicle = {"vin": vin, "model": "XC40", "model_year": 2022, "odometer_km": 10}
        assert put_visit(client, key, vehicle=vehicle).status_code == 201

    @pytest.mark.parametrize("vin", ["5YJ3E1EA0KF00000", "5YJ3E1EA0KF0000I0", "5YJ3E1EA0KF00O001"])
    def test_malformed_vin_is_422(self, client: TestClient, key: str, vin: str) -> None:
        vehicle = {"vin": vin, "model": "Model 3", "model_year": 2021, "odometer_km": 10}
        response = put_visit(client, key, vehicle=vehicle)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["vehicle.vin"]

    def test_bad_external_id_is_422(self, client: TestClient, key: str) -> None:
        response = put_visit(client, key, external_id="RO 1")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"

    def test_naive_datetime_is_422(self, client: TestClient, key: str) -> None:
        response = put_visit(client, key, checked_in_at="2026-11-18T08:05:00")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["checked_in_at"]

    def test_unknown_field_is_422(self, client: TestClient, key: str) -> None:
        response = put_visit(client, key, colour="red")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["colour"]


class TestStatusTransitions:
    @pytest.mark.parametrize(
        ("current", "target"),
        [
            ("scheduled", "checked_in"),
            ("checked_in", "diagnosing"),
            ("diagnosing", "awaiting_approval"),
            ("awaiting_approval", "in_repair"),
            ("in_repair", "ready"),
            ("ready", "closed"),
            ("scheduled", "in_repair"),
            ("in_repair", "diagnosing"),
            ("ready", "in_repair"),
            ("checked_in", "cancelled"),
        ],
    )
    def test_allowed_move_is_200_and_recorded(
        self, client: TestClient, key: str, session: Session, current: str, target: str
    ) -> None:
        visit_id = put_visit(client, key, status=current).json()["id"]
        response = put_visit(client, key, status=target)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
        history = [(c.from_status, c.to_status) for c in status_changes(session, visit_id)]
        assert history == [(None, current), (current, target)]

    @pytest.mark.parametrize(
        ("current", "target"),
        [
            ("closed", "in_repair"),
            ("closed", "cancelled"),
            ("cancelled", "checked_in"),
            ("cancelled", "closed"),
            ("diagnosing", "checked_in"),
            ("checked_in", "scheduled"),
            ("ready", "awaiting_approval"),
        ],
    )
    def test_forbidden_move_is_409_naming_the_current_status(
        self, client: TestClient, key: str, session: Session, current: str, target: str
    ) -> None:
        visit_id = put_visit(client, key, status=current).json()["id"]
        response = put_visit(client, key, status=target)
        assert response.status_code == 409
        assert error_code(response) == "invalid_status_transition"
        assert response.json()["error"]["details"]["current_status"] == current
        assert response.json()["error"]["details"]["requested_status"] == target
        assert read_visit(client, visit_id)["status"] == current
        assert len(status_changes(session, visit_id)) == 1

    def test_forbidden_move_writes_no_other_change(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = put_visit(client, key, status="closed").json()["id"]
        response = put_visit(client, key, status="in_repair", concern="Changed concern")
        assert response.status_code == 409
        assert error_code(response) == "invalid_status_transition"
        assert read_visit(client, visit_id)["concern"] == "Grinding noise from the front brakes"
        assert events(session, "visit.updated", visit_id) == []

    def test_cancelled_stays_cancelled(self, client: TestClient, key: str) -> None:
        put_visit(client, key, status="scheduled", checked_in_at=None)
        assert put_visit(client, key, status="cancelled", checked_in_at=None).status_code == 200
        assert put_visit(client, key, status="cancelled", checked_in_at=None).status_code == 200
        for target in ("scheduled", "checked_in", "ready", "closed"):
            response = put_visit(client, key, status=target)
            assert response.status_code == 409, target
            assert error_code(response) == "invalid_status_transition"
            assert response.json()["error"]["details"]["current_status"] == "cancelled"

    def test_history_records_each_step_with_the_key_name(
        self, client: TestClient, key: str, session: Session, clock: FixedClock
    ) -> None:
        visit_id = put_visit(client, key, status="scheduled", checked_in_at=None).json()["id"]
        steps = ["checked_in", "diagnosing", "awaiting_approval", "in_repair", "ready", "closed"]
        for step in steps:
            clock.advance(timedelta(minutes=30))
            assert put_visit(client, key, status=step, checked_in_at=None).status_code == 200
        history = status_changes(session, visit_id)
        assert [c.to_status for c in history] == ["scheduled", *steps]
        assert [c.from_status for c in history] == [None, "scheduled", *steps[:-1]]
        assert {c.actor for c in history} == {API_KEY_NAME}
        assert [c.changed_at for c in history] == [
            datetime(2026, 11, 18, 9, 0, tzinfo=UTC) + timedelta(minutes=30 * i)
            for i in range(len(steps) + 1)
        ]
        shown = read_visit(client, visit_id)["status_history"]
        assert [h["to_status"] for h in shown] == ["scheduled", *steps]

    def test_checked_in_at_defaults_to_now_when_moving_past_scheduled(
        self, client: TestClient, key: str, clock: FixedClock
    ) -> None:
        visit_id = put_visit(client, key, status="scheduled", checked_in_at=None).json()["id"]
        assert read_visit(client, visit_id)["checked_in_at"] is None
        clock.advance(timedelta(hours=2))
        put_visit(client, key, status="diagnosing", checked_in_at=None)
        checked_in = read_visit(client, visit_id)["checked_in_at"]
        assert datetime.fromisoformat(checked_in) == datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
        clock.advance(timedelta(hours=2))
        put_visit(client, key, status="in_repair", checked_in_at=None)
        kept = read_visit(client, visit_id)["checked_in_at"]
        assert datetime.fromisoformat(kept) == datetime(2026, 11, 18, 11, 0, tzinfo=UTC)

    def test_given_checked_in_at_is_kept_in_utc(self, client: TestClient, key: str) -> None:
        visit_id = put_visit(client, key, checked_in_at="2026-11-18T08:05:00+01:00").json()["id"]
        checked_in = datetime.fromisoformat(read_visit(client, visit_id)["checked_in_at"])
        assert checked_in == datetime(2026, 11, 18, 7, 5, tzinfo=UTC)

    def test_closing_defaults_closed_at_to_now(
        self, client: TestClient, key: str, clock: FixedClock
    ) -> None:
        visit_id = put_visit(client, key).json()["id"]
        clock.advance(timedelta(days=1))
        put_visit(client, key, status="closed")
        closed_at = datetime.fromisoformat(read_visit(client, visit_id)["closed_at"])
        assert closed_at == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def diagnosis(findings: str = "Worn front pads", **extra: Any) -> dict[str, Any]:
    return {"findings": findings, "codes": ["C1234", "P0A80"], "safety_related": False, **extra}


class TestAddDiagnosis:
    def test_diagnosis_is_201_with_its_id(self, client: TestClient, key: str) -> None:
        visit_id = push_visit(client, key)
        response = post_integration(client, key, "RO-1", "diagnoses", diagnosis())
        assert response.status_code == 201
        assert set(response.json()) == {"id"}
        shown = read_visit(client, visit_id)["diagnoses"]
        assert [d["id"] for d in shown] == [response.json()["id"]]
        assert shown[0]["codes"] == ["C1234", "P0A80"]
        assert shown[0]["findings"] == "Worn front pads"

    def test_revisions_count_up_and_name_the_key(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = push_visit(client, key)
        first = post_integration(client, key, "RO-1", "diagnoses", diagnosis()).json()["id"]
        second = post_integration(
            client, key, "RO-1", "diagnoses", diagnosis("Also a warped disc", revises_id=first)
        )
        assert second.status_code == 201
        post_integration(client, key, "RO-1", "diagnoses", diagnosis("Third look"))
        shown = read_visit(client, visit_id)["diagnoses"]
        assert [d["revision"] for d in shown] == [1, 2, 3]
        assert {d["author"] for d in shown} == {API_KEY_NAME}
        added = events(session, "diagnosis.added", visit_id)
        assert [e.data["revision"] for e in added] == [1, 2, 3]

    def test_revisions_are_numbered_per_visit(self, client: TestClient, key: str) -> None:
        push_visit(client, key, "RO-1")
        other = push_visit(client, key, "RO-2")
        post_integration(client, key, "RO-1", "diagnoses", diagnosis())
        post_integration(client, key, "RO-1", "diagnoses", diagnosis())
        post_integration(client, key, "RO-2", "diagnoses", diagnosis())
        assert [d["revision"] for d in read_visit(client, other)["diagnoses"]] == [1]

    def test_revises_id_of_another_visit_is_422(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        push_visit(client, key, "RO-1")
        visit_id = push_visit(client, key, "RO-2")
        foreign = post_integration(client, key, "RO-1", "diagnoses", diagnosis()).json()["id"]
        response = post_integration(client, key, "RO-2", "diagnoses", diagnosis(revises_id=foreign))
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["revises_id"]
        assert read_visit(client, visit_id)["diagnoses"] == []

    def test_unknown_revises_id_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        response = post_integration(client, key, "RO-1", "diagnoses", diagnosis(revises_id=999999))
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["revises_id"]

    def test_bad_trouble_code_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = diagnosis(codes=["P0A80", "not a code!"])
        response = post_integration(client, key, "RO-1", "diagnoses", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["codes[1]"]

    def test_unknown_visit_is_404(self, client: TestClient, key: str) -> None:
        response = post_integration(client, key, "RO-404", "diagnoses", diagnosis())
        assert response.status_code == 404
        assert error_code(response) == "visit_not_found"

    def test_cancelled_visit_is_409(self, client: TestClient, key: str) -> None:
        push_visit(client, key, status="cancelled")
        response = post_integration(client, key, "RO-1", "diagnoses", diagnosis())
        assert response.status_code == 409
        assert error_code(response) == "visit_closed"


def estimate(*lines: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"lines": list(lines), "reason": "initial", **extra}


# Strings Python's Decimal() reads that are not the contract's decimal string
# (-?digits(.digits)?, ASCII digits only): refused wherever a decimal string is taken.
ODD_DECIMALS = [
    "\u0661\u0662\u0663",  # Arabic-Indic 123
    "\uff15",  # fullwidth 5
    "NaN",
    "Infinity",
    "-Infinity",
    "1e3",
    "1_000",
    " 5",
    "5 ",
    "+5",
    ".5",
    "12,50",
]


class TestAddEstimate:
    def test_total_is_in_the_money_format(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        response = post_integration(
            client, key, "RO-1", "estimates", estimate(line("61.70", quantity="2"))
        )
        assert response.status_code == 201
        assert response.json()["total"] == {"amount": "123.40", "currency": "NOK"}
        assert isinstance(response.json()["id"], int)

    def test_each_line_is_rounded_half_up_before_summing(
        self, client: TestClient, key: str
    ) -> None:
        push_visit(client, key)
        # 0.5 x 0.05 = 0.025 a line: half up per line is 0.03 + 0.03; rounding the
        # sum (0.05) or rounding half to even (0.02 + 0.02) would differ.
        body = estimate(line("0.05", quantity="0.5"), line("0.05", quantity="0.5"))
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 201, response.text
        assert response.json()["total"] == {"amount": "0.06", "currency": "NOK"}

    def test_lines_and_total_read_back_exactly(self, client: TestClient, key: str) -> None:
        visit_id = push_visit(client, key)
        body = estimate(
            line("1499.99", quantity="3"),
            line("1350.05", quantity="1.5", kind="labour", description="Fit pads"),
            line("0.10", quantity="0.333"),
        )
        response = post_integration(client, key, "RO-1", "estimates", body)
        # 4499.97 + 2025.075 -> 2025.08 + 0.0333 -> 0.03
        assert response.json()["total"] == {"amount": "6525.08", "currency": "NOK"}
        shown = read_visit(client, visit_id)["estimates"][0]
        assert shown["total"] == {"amount": "6525.08", "currency": "NOK"}
        assert [ln["quantity"] for ln in shown["lines"]] == ["3", "1.5", "0.333"]
        assert [ln["unit_price"]["amount"] for ln in shown["lines"]] == [
            "1499.99",
            "1350.05",
            "0.10",
        ]
        assert [ln["amount"]["amount"] for ln in shown["lines"]] == ["4499.97", "2025.08", "0.03"]
        assert [ln["kind"] for ln in shown["lines"]] == ["part", "labour", "part"]
        assert shown["author"] == API_KEY_NAME
        assert shown["reason"] == "initial"
        assert (shown["approved"], shown["approved_at"]) == (False, None)

    def test_amounts_are_stored_exactly(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        push_visit(client, key)
        body = estimate(line("12345678901.23"), line("0.01"))
        estimate_id = post_integration(client, key, "RO-1", "estimates", body).json()["id"]
        total = session.scalar(
            sa.select(Estimate.total)
            .where(Estimate.id == estimate_id)
            .execution_options(populate_existing=True)
        )
        assert str(total.normalize()) == "12345678901.24"

    @pytest.mark.parametrize("price", ["10.123", "0.001"])
    def test_more_decimals_than_the_currency_has_is_422(
        self, client: TestClient, key: str, price: str
    ) -> None:
        push_visit(client, key)
        response = post_integration(client, key, "RO-1", "estimates", estimate(line(price)))
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines[0].unit_price"]

    def test_bad_line_is_named_by_its_index(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("10.00"), line("10.00"), line("1.005"))
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines[2].unit_price"]

    @pytest.mark.parametrize("price", ODD_DECIMALS)
    def test_non_decimal_price_is_422(self, client: TestClient, key: str, price: str) -> None:
        visit_id = push_visit(client, key)
        response = post_integration(client, key, "RO-1", "estimates", estimate(line(price)))
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines[0].unit_price"]
        assert read_visit(client, visit_id)["estimates"] == []

    def test_arabic_indic_digits_are_not_123(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("\u0661\u0662\u0663"))  # Arabic-Indic 123: Decimal() reads 123
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        [detail] = response.json()["error"]["details"]
        assert (detail["field"], detail["location"]) == ("lines[0].unit_price", "body")
        assert "ASCII digits" in detail["message"]

    def test_integer_quantity_is_201(self, client: TestClient, key: str) -> None:
        visit_id = push_visit(client, key)
        body = estimate(line("61.70"), line("0.05", quantity="0.5"))
        body["lines"][0]["quantity"] = 4
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 201, response.text
        # 4 x 61.70 = 246.80, plus 0.5 x 0.05 = 0.025 -> 0.03
        assert response.json()["total"] == {"amount": "246.83", "currency": "NOK"}
        shown = read_visit(client, visit_id)["estimates"][0]
        assert [ln["quantity"] for ln in shown["lines"]] == ["4", "0.5"]

    def test_decimal_string_quantity_is_201(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("100.00", quantity="1.5"))
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 201, response.text
        assert response.json()["total"] == {"amount": "150.00", "currency": "NOK"}

    @pytest.mark.parametrize("quantity", [1.5, 4.0])
    def test_float_quantity_is_422_naming_the_field(
        self, client: TestClient, key: str, quantity: float
    ) -> None:
        visit_id = push_visit(client, key)
        body = estimate(line("10.00"), line("10.00"))
        body["lines"][1]["quantity"] = quantity
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        [detail] = response.json()["error"]["details"]
        assert (detail["field"], detail["location"]) == ("lines[1].quantity", "body")
        assert "not a float" in detail["message"]
        assert read_visit(client, visit_id)["estimates"] == []

    @pytest.mark.parametrize("quantity", [*ODD_DECIMALS, True, None, -1, "-1"])
    def test_odd_quantity_is_422(self, client: TestClient, key: str, quantity: object) -> None:
        push_visit(client, key)
        body = estimate(line("10.00"))
        body["lines"][0]["quantity"] = quantity
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines[0].quantity"]

    def test_integer_zero_quantity_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("10.00"))
        body["lines"][0]["quantity"] = 0
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines[0].quantity"]

    def test_zero_quantity_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("10.00", quantity="0"))
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines[0].quantity"]

    def test_negative_total_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("-10.00", description="Discount"))
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines"]

    def test_discount_line_lowers_the_total(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("100.00"), line("-25.50", description="Discount"))
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.json()["total"] == {"amount": "74.50", "currency": "NOK"}

    def test_no_lines_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        response = post_integration(client, key, "RO-1", "estimates", estimate())
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["lines"]

    def test_other_currency_than_the_visits_is_422(self, client: TestClient, key: str) -> None:
        visit_id = push_visit(client, key)
        body = estimate(line("100.00"), currency="EUR")
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["currency"]
        assert read_visit(client, visit_id)["estimates"] == []

    def test_visits_own_currency_is_accepted(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("100.00"), currency="nok")
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 201
        assert response.json()["total"]["currency"] == "NOK"

    def test_unknown_currency_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = estimate(line("100.00"), currency="XYZ")
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["currency"]

    def test_danish_center_prices_in_dkk(self, client: TestClient, key: str) -> None:
        push_visit(client, key, center="CPH-01", customer_email="mads@example.dk")
        response = post_integration(client, key, "RO-1", "estimates", estimate(line("99.95")))
        assert response.json()["total"] == {"amount": "99.95", "currency": "DKK"}

    def test_currency_without_minor_units_rounds_to_whole(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        doc = network_doc()
        iceland = {
            **doc["centers"][0],
            "code": "REK-01",
            "name": "Reykjavik",
            "country": "IS",
            "time_zone": "Atlantic/Reykjavik",
            "lat": 64.1,
            "lon": -21.9,
        }
        make_network(session, clock, centers=[*doc["centers"], iceland])
        key = make_api_key(session, clock)
        push_visit(client, key, center="REK-01")
        # 2.5 x 3 = 7.5 -> 8 ISK, half up
        body = estimate(line("3", quantity="2.5"))
        response = post_integration(client, key, "RO-1", "estimates", body)
        assert response.status_code == 201, response.text
        assert response.json()["total"] == {"amount": "8", "currency": "ISK"}
        refused = post_integration(client, key, "RO-1", "estimates", estimate(line("3.50")))
        assert refused.status_code == 422
        assert error_code(refused) == "validation_error"
        assert error_fields(refused) == ["lines[0].unit_price"]

    def test_revisions_count_up(self, client: TestClient, key: str) -> None:
        visit_id = push_visit(client, key)
        for price in ("100.00", "150.00", "120.00"):
            post_integration(client, key, "RO-1", "estimates", estimate(line(price)))
        shown = read_visit(client, visit_id)["estimates"]
        assert [e["revision"] for e in shown] == [1, 2, 3]
        assert [e["total"]["amount"] for e in shown] == ["100.00", "150.00", "120.00"]

    def test_approved_at_the_counter_is_marked_approved(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = push_visit(client, key)
        body = estimate(line("100.00"), approved=True)
        estimate_id = post_integration(client, key, "RO-1", "estimates", body).json()["id"]
        shown = read_visit(client, visit_id)["estimates"][0]
        assert shown["approved"] is True
        assert datetime.fromisoformat(shown["approved_at"]) == datetime(
            2026, 11, 18, 9, 0, tzinfo=UTC
        )
        added = events(session, "estimate.added", visit_id)
        assert [(e.subject_id, e.data["approved"]) for e in added] == [(estimate_id, True)]
        assert added[0].data["total"] == "100.00"

    def test_cancelled_visit_is_409(self, client: TestClient, key: str) -> None:
        push_visit(client, key, status="cancelled")
        response = post_integration(client, key, "RO-1", "estimates", estimate(line("1.00")))
        assert response.status_code == 409
        assert error_code(response) == "visit_closed"

    def test_unknown_visit_is_404(self, client: TestClient, key: str) -> None:
        response = post_integration(client, key, "RO-404", "estimates", estimate(line("1.00")))
        assert response.status_code == 404
        assert error_code(response) == "visit_not_found"


class TestDecimalsInTheSchema:
    def test_openapi_describes_quantity_and_amounts(self, client: TestClient) -> None:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        line_fields = schemas["EstimateLineIn"]["properties"]
        integer, text = line_fields["quantity"]["anyOf"]
        assert (integer["type"], integer["minimum"]) == ("integer", 0)
        assert (text["type"], text["pattern"]) == ("string", QUANTITY_PATTERN)
        amounts = [
            line_fields["unit_price"],
            schemas["WarrantyDecisionCreate"]["properties"]["claimed"],
            schemas["WarrantyDecisionCreate"]["properties"]["covered"],
            schemas["ResolveIn"]["properties"]["amount_delta"],
        ]
        assert {(a["type"], a["pattern"]) for a in amounts} == {("string", AMOUNT_PATTERN)}


def warranty(claimed: str = "5000.00", covered: str = "5000.00", **extra: Any) -> dict[str, Any]:
    return {
        "decision": "covered",
        "claimed": claimed,
        "covered": covered,
        "reason_code": "W-BRAKE.01",
        "safety_related": False,
        **extra,
    }


class TestAddWarrantyDecision:
    def test_decision_is_201_and_shown(
        self, client: TestClient, key: str, session: Session
    ) -> None:
        visit_id = push_visit(client, key)
        estimate_id = post_integration(
            client, key, "RO-1", "estimates", estimate(line("5000.00"))
        ).json()["id"]
        body = warranty("5000.00", "2500.5", decision="goodwill_partial", estimate_id=estimate_id)
        response = post_integration(client, key, "RO-1", "warranty-decisions", body)
        assert response.status_code == 201
        assert set(response.json()) == {"id"}
        shown = read_visit(client, visit_id)["warranty_decisions"]
        assert len(shown) == 1
        assert shown[0]["id"] == response.json()["id"]
        assert shown[0]["decision"] == "goodwill_partial"
        assert shown[0]["claimed"] == {"amount": "5000.00", "currency": "NOK"}
        assert shown[0]["covered"] == {"amount": "2500.50", "currency": "NOK"}
        assert shown[0]["estimate_id"] == estimate_id
        assert shown[0]["author"] == API_KEY_NAME
        assert shown[0]["revision"] == 1
        assert [e.subject_id for e in events(session, "warranty_decision.added", visit_id)] == [
            response.json()["id"]
        ]

    def test_not_covered_with_zero_is_201(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = warranty("800.00", "0", decision="not_covered", reason_code="WEAR")
        assert post_integration(client, key, "RO-1", "warranty-decisions", body).status_code == 201

    def test_covered_above_claimed_is_422(self, client: TestClient, key: str) -> None:
        visit_id = push_visit(client, key)
        body = warranty("100.00", "100.01")
        response = post_integration(client, key, "RO-1", "warranty-decisions", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["covered"]
        assert read_visit(client, visit_id)["warranty_decisions"] == []

    def test_negative_covered_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        response = post_integration(
            client, key, "RO-1", "warranty-decisions", warranty(covered="-1")
        )
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["covered"]

    @pytest.mark.parametrize("field", ["claimed", "covered"])
    @pytest.mark.parametrize("amount", ["\u0661\u0662\u0663", "NaN", "Infinity", "1e3", " 5"])
    def test_odd_amount_is_422(self, client: TestClient, key: str, field: str, amount: str) -> None:
        visit_id = push_visit(client, key)
        body = warranty(**{field: amount})
        response = post_integration(client, key, "RO-1", "warranty-decisions", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == [field]
        assert read_visit(client, visit_id)["warranty_decisions"] == []

    def test_too_many_decimals_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = warranty(claimed="100.001")
        response = post_integration(client, key, "RO-1", "warranty-decisions", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["claimed"]

    def test_estimate_of_another_visit_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key, "RO-1")
        push_visit(client, key, "RO-2")
        foreign = post_integration(
            client, key, "RO-1", "estimates", estimate(line("10.00"))
        ).json()["id"]
        body = warranty(estimate_id=foreign)
        response = post_integration(client, key, "RO-2", "warranty-decisions", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["estimate_id"]

    def test_other_currency_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = warranty(currency="SEK")
        response = post_integration(client, key, "RO-1", "warranty-decisions", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["currency"]

    def test_unknown_decision_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        body = warranty(decision="maybe")
        response = post_integration(client, key, "RO-1", "warranty-decisions", body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert error_fields(response) == ["decision"]

    def test_unknown_external_id_is_404(self, client: TestClient, key: str) -> None:
        response = post_integration(client, key, "RO-404", "warranty-decisions", warranty())
        assert response.status_code == 404
        assert error_code(response) == "visit_not_found"


class TestApiKey:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("PUT", "/api/v1/integration/visits/RO-1"),
            ("POST", "/api/v1/integration/visits/RO-1/diagnoses"),
            ("POST", "/api/v1/integration/visits/RO-1/estimates"),
            ("POST", "/api/v1/integration/visits/RO-1/warranty-decisions"),
        ],
    )
    def test_unknown_key_is_401(
        self, client: TestClient, key: str, session: Session, method: str, path: str
    ) -> None:
        push_visit(client, key)
        response = client.request(method, path, json={}, headers={"X-API-Key": "dk_not-a-key"})
        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"

    def test_revoked_key_is_401_and_writes_nothing(
        self, client: TestClient, key: str, session: Session, clock: FixedClock
    ) -> None:
        visit_id = push_visit(client, key)
        revoke_api_key(session, clock, name=API_KEY_NAME)
        session.commit()
        response = put_visit(client, key, status="diagnosing")
        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"
        refused = post_integration(client, key, "RO-1", "diagnoses", diagnosis())
        assert refused.status_code == 401
        assert error_code(refused) == "not_authenticated"
        shown = read_visit(client, visit_id)
        assert (shown["status"], shown["diagnoses"]) == ("checked_in", [])

    def test_other_live_key_still_works_and_is_named(
        self, client: TestClient, key: str, session: Session, clock: FixedClock
    ) -> None:
        other = make_api_key(session, clock, name="diagnostics")
        revoke_api_key(session, clock, name=API_KEY_NAME)
        session.commit()
        visit_id = push_visit(client, other)
        post_integration(client, other, "RO-1", "diagnoses", diagnosis())
        assert read_visit(client, visit_id)["diagnoses"][0]["author"] == "diagnostics"

    def test_bearer_token_is_not_an_api_key(self, client: TestClient, key: str) -> None:
        headers = login(client, "ops@example.no")
        response = client.put(
            "/api/v1/integration/visits/RO-1", json={"center": "OSL-01"}, headers=headers
        )
        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"
