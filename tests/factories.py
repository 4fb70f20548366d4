"""Typed builders for test data, going through the real use cases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.audit.service import Actor
from direkte.auth.service import create_api_key
from direkte.clock import FixedClock
from direkte.fields import vin_check_digit
from direkte.network.service import load_network

PASSWORD = "correct-horse-battery"
HOURS = {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu")} | {"fri": ["08:00-15:00"]}


def network_doc(**overrides: Any) -> dict[str, Any]:
    """A small network: two regions, a pilot center, an on center and an off center."""
    doc: dict[str, Any] = {
        "regions": [
            {
                "code": "NO-EAST",
                "name": "Norway East",
                "countries": ["NO"],
                "time_zone": "Europe/Oslo",
            },
            {
                "code": "DK",
                "name": "Denmark",
                "countries": ["DK"],
                "time_zone": "Europe/Copenhagen",
            },
        ],
        "centers": [
            {
                "code": "OSL-01",
                "name": "Oslo Alnabru",
                "region": "NO-EAST",
                "country": "NO",
                "time_zone": "Europe/Oslo",
                "lat": 59.93,
                "lon": 10.84,
                "business_hours": HOURS,
                "program": "pilot",
                "closed_dates": ["2026-12-24"],
            },
            {
                "code": "OSL-02",
                "name": "Oslo Skøyen",
                "region": "NO-EAST",
                "country": "NO",
                "time_zone": "Europe/Oslo",
                "lat": 59.92,
                "lon": 10.68,
                "business_hours": HOURS,
                "program": "off",
            },
            {
                "code": "CPH-01",
                "name": "København",
                "region": "DK",
                "country": "DK",
                "time_zone": "Europe/Copenhagen",
                "lat": 55.67,
                "lon": 12.40,
                "business_hours": HOURS,
                "program": "on",
            },
        ],
        "staff": [
            {
                "email": "kari@example.no",
                "password": PASSWORD,
                "role": "local_manager",
                "center": "OSL-01",
                "name": "Kari Nordmann",
                "title": "Service Manager",
                "phone": "+4791234567",
                "languages": ["nb", "en"],
                "on_duty": True,
                "deputy": "per@example.no",
            },
            {
                "email": "per@example.no",
                "password": PASSWORD,
                "role": "local_manager",
                "center": "OSL-01",
                "name": "Per Deputy",
                "title": "Deputy Manager",
                "phone": "+4791234568",
                "languages": ["nb"],
                "on_duty": False,
            },
            {
                "email": "siv@example.no",
                "password": PASSWORD,
                "role": "service_advisor",
                "center": "OSL-01",
                "name": "Siv Advisor",
                "languages": ["nb"],
            },
            {
                "email": "ove@example.no",
                "password": PASSWORD,
                "role": "service_advisor",
                "center": "OSL-02",
                "name": "Ove Advisor",
                "languages": ["nb"],
            },
            {
                "email": "lars@example.no",
                "password": PASSWORD,
                "role": "regional_manager",
                "region": "NO-EAST",
                "name": "Lars Berg",
                "title": "Regional Service Manager",
                "phone": "+4798765432",
                "languages": ["nb", "en"],
            },
            {
                "email": "mette@example.dk",
                "password": PASSWORD,
                "role": "local_manager",
                "center": "CPH-01",
                "name": "Mette Jensen",
                "languages": ["da"],
                "on_duty": True,
            },
            {
                "email": "dorte@example.dk",
                "password": PASSWORD,
                "role": "regional_manager",
                "region": "DK",
                "name": "Dorte Dansk",
                "languages": ["da"],
            },
            {
                "email": "ops@example.no",
                "password": PASSWORD,
                "role": "ops_admin",
                "name": "Ops Admin",
                "languages": ["en"],
            },
        ],
        "customers": [
            {
                "email": "ola@example.no",
                "password": PASSWORD,
                "name": "Ola Hansen",
                "phone": "+4740000000",
                "language": "nb",
            },
            {"email": "eva@example.no", "password": PASSWORD, "name": "Eva Eng", "language": "en"},
            {
                "email": "mads@example.dk",
                "password": PASSWORD,
                "name": "Mads Møller",
                "language": "da",
            },
        ],
    }
    doc.update(overrides)
    return doc


def make_network(session: Session, clock: FixedClock, **overrides: Any) -> None:
    load_network(session, clock, raw=network_doc(**overrides), actor=Actor.system("test"))
    session.commit()


def make_api_key(session: Session, clock: FixedClock, name: str = "dms") -> str:
    key = create_api_key(session, clock, name=name)
    session.commit()
    return key


def make_vin(seed: int = 1, wmi: str = "5YJ") -> str:
    """A VIN with a correct check digit."""
    draft = f"{wmi}3E1EA0KF{seed:06d}"[:17]
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def visit_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "center": "OSL-01",
        "customer_email": "ola@example.no",
        "vehicle": {
            "vin": make_vin(),
            "model": "Model 3",
            "model_year": 2021,
            "odometer_km": 42000,
            "delivery_date": "2021-03-01",
        },
        "concern": "Grinding noise from the front brakes",
        "status": "checked_in",
        "booked_at": "2026-11-10T12:00:00+01:00",
        "appointment_date": "2026-11-18",
        "checked_in_at": "2026-11-18T08:05:00+01:00",
        "drivable": True,
    }
    body.update(overrides)
    return body


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def push_visit(client: TestClient, key: str, external_id: str = "RO-1", **overrides: Any) -> int:
    response = client.put(
        f"/api/v1/integration/visits/{external_id}",
        json=visit_body(**overrides),
        headers={"X-API-Key": key},
    )
    assert response.status_code in (200, 201), response.text
    return int(response.json()["id"])
