"""The interactive API docs load everything from the app itself (issue 12, "Across the app")."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from direkte.api.headers import DOCS_CSP

# Every URL a page names in src=, href= or a data-*-url attribute.
_URL = re.compile(r'(?:src|href|spec-url|data-[a-z0-9-]+-url)="([^"]*)"')


def _assets(page: str) -> list[str]:
    return _URL.findall(page)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_name_no_other_host(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    page = response.text
    assert "//" not in " ".join(_assets(page)), _assets(page)
    assert "http" not in page.replace("http-equiv", "")
    assert "<script>" not in page  # no inline script: every one has a src
    assert "/openapi.json" in page


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_every_asset_of_the_docs_is_served(client: TestClient, path: str) -> None:
    page = client.get(path).text
    assets = [url for url in _assets(page) if url.startswith("/static/")]
    assert assets
    for url in assets:
        got = client.get(url)
        assert got.status_code == 200, url
        assert got.content, url


def test_docs_csp_allows_scripts_from_the_app_only(client: TestClient) -> None:
    response = client.get("/docs")
    csp = response.headers["Content-Security-Policy"]
    assert csp == DOCS_CSP
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]
    assert "http" not in csp


def test_vendored_bundles_carry_no_cdn_reference(client: TestClient) -> None:
    for url in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/redoc/redoc.standalone.js",
    ):
        body = client.get(url).text
        assert "cdn.jsdelivr.net" not in body, url
        assert "fonts.googleapis.com" not in body, url
