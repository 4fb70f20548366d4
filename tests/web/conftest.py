"""Fixtures for the web app's HTTP tests: a browser-like client (it keeps cookies) on
the factories' network, with helpers to log in and to send forms with their CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from tests.factories import PASSWORD, make_api_key, make_network, visit_body

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LANG_RE = re.compile(r'<html lang="([a-z]+)">')


def csrf_of(page: Response) -> str:
    """The CSRF token in a page's forms."""
    found = CSRF_RE.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def html_lang(page: Response) -> str:
    found = LANG_RE.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


@dataclass
class Browser:
    """One browser: its cookies persist across requests, as a real one's do."""

    client: TestClient

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def form(self, page: str, action: str, data: dict[str, Any] | None = None) -> Response:
        """Open ``page``, then post ``data`` to ``action`` with the page's CSRF token."""
        token = csrf_of(self.get(page))
        return self.client.post(
            action, data={**(data or {}), "csrf_token": token}, follow_redirects=False
        )

    def log_in(self, email: str, password: str = PASSWORD) -> Response:
        response = self.form("/app/login", "/app/login", {"username": email, "password": password})
        assert response.status_code == 303, response.text
        return response


@dataclass
class WebWorld:
    """The factories' network, an integration key and a way to open browsers."""

    make_client: Callable[[], TestClient]
    api: TestClient
    key: str
    clock: FixedClock

    def browser(self, email: str | None = None) -> Browser:
        browser = Browser(self.make_client())
        if email is not None:
            browser.log_in(email)
        return browser

    def integration(self, method: str, path: str, json: dict[str, Any]) -> Response:
        response = self.api.request(
            method, f"/api/v1/integration{path}", json=json, headers={"X-API-Key": self.key}
        )
        assert response.status_code in (200, 201), response.text
        return response

    def visit(self, external_id: str = "RO-1", **overrides: Any) -> int:
        body = visit_body(**overrides)
        return int(self.integration("PUT", f"/visits/{external_id}", body).json()["id"])

    def diagnosis(self, external_id: str = "RO-1", findings: str = "Pads worn") -> int:
        body = {"findings": findings, "codes": ["C1101"], "safety_related": True}
        return int(self.integration("POST", f"/visits/{external_id}/diagnoses", body).json()["id"])

    def estimate(
        self, external_id: str = "RO-1", lines: list[tuple[str, str, str]] | None = None
    ) -> int:
        """An estimate revision: lines of (description, quantity, unit price)."""
        lines = lines or [("Brake pads", "1", "9000")]
        body = {
            "lines": [
                {"kind": "part", "description": d, "quantity": q, "unit_price": p}
                for d, q, p in lines
            ],
            "currency": "NOK",
            "reason": "Pads and discs",
            "approved": False,
        }
        return int(self.integration("POST", f"/visits/{external_id}/estimates", body).json()["id"])


@pytest.fixture
def web(app_factory: Callable[[], TestClient], session: Session, clock: FixedClock) -> WebWorld:
    make_network(session, clock)
    return WebWorld(
        make_client=app_factory, api=app_factory(), key=make_api_key(session, clock), clock=clock
    )
