"""Security headers on every answer; HSTS over https only; CORS off unless configured."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from direkte.api.app import create_app
from direkte.api.headers import STRICT_CSP
from direkte.clock import FixedClock
from direkte.config import Settings


def test_api_and_pages_send_the_strict_headers(client: TestClient) -> None:
    for path in ("/", "/api/v1/me/visits", "/openapi.json", "/static/site.css", "/nowhere"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == STRICT_CSP, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers
    assert "'unsafe-inline'" not in STRICT_CSP
    assert "http" not in STRICT_CSP
    assert "frame-ancestors 'none'" in STRICT_CSP


def test_start_page_has_no_inline_style_or_script(client: TestClient) -> None:
    page = client.get("/").text
    assert "<style" not in page
    assert "<script" not in page
    assert client.get("/static/site.css").status_code == 200


def test_hsts_over_https(client: TestClient) -> None:
    secure = TestClient(client.app, base_url="https://testserver")
    response = secure.get("/api/v1/me/visits")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cors_off_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/me/visits",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    got = client.get("/api/v1/me/visits", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in got.headers


def test_cors_for_configured_origins_only(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    settings = Settings(
        secret_key="test-secret-key-0123456789-abcdefghijklmnop",
        data_dir=tmp_path,
        cors_origins="https://app.example, https://ops.example",
    )
    client = TestClient(create_app(settings, sessionmaker_=session_factory, clock=clock))
    ask = {"Access-Control-Request-Method": "GET"}
    ok = client.options("/api/v1/me/visits", headers={"Origin": "https://app.example", **ask})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = client.options("/api/v1/me/visits", headers={"Origin": "https://evil.example", **ask})
    assert "Access-Control-Allow-Origin" not in other.headers
