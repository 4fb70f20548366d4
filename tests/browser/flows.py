"""Steps the browser tests share: log in through the form, and cases made through the API."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.browser.server import PASSWORD, LiveServer

LOCAL = "local@browser-tests.example.com"
REGIONAL = "regional@browser-tests.example.com"
OPS = "ops@browser-tests.example.com"


def customer(n: int) -> str:
    return f"customer{n}@browser-tests.example.com"


def log_in(page: Page, email: str, password: str = PASSWORD, lang: str = "en") -> None:
    """Log in with the form, as a person does; lands on the user's start page."""
    page.goto(f"/app/login?lang={lang}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/app/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/app/login" not in url)


def open_case(server: LiveServer, email: str, reason: str) -> dict[str, Any]:
    """A visit whose estimate rose far over the approved one, and the customer's case
    about it, opened through the API; returns the escalation."""
    visit_id = server.push_disputed_estimate(email)
    headers = server.token(email)
    with server.api() as api:
        visit = api.get(f"/api/v1/visits/{visit_id}", headers=headers).json()
        latest = max(visit["estimates"], key=lambda e: e["revision"])
        opened = api.post(
            f"/api/v1/visits/{visit_id}/escalations",
            headers=headers,
            json={"category": "estimate", "subject_id": latest["id"], "reason": reason},
        )
    assert opened.status_code == 201, opened.text
    case: dict[str, Any] = opened.json()
    return case


def case_as_customer(server: LiveServer, email: str, case_id: int) -> dict[str, Any]:
    with server.api() as api:
        got = api.get(f"/api/v1/escalations/{case_id}", headers=server.token(email))
    assert got.status_code == 200, got.text
    case: dict[str, Any] = got.json()
    return case
