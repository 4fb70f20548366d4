"""The one error format, the start page and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from direkte.api.app import create_app
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.errors import Conflict
from tests.factories import login, make_api_key, make_network, make_vin, visit_body

LEAK = "secret-internal-detail-42"


@pytest.fixture
def key(session: Session, clock: FixedClock) -> str:
    make_network(session, clock)
    return make_api_key(session, clock)


@pytest.fixture
def app(session_factory: sessionmaker[Session], clock: FixedClock, settings: Settings) -> FastAPI:
    """The real app plus test-only routes that fail in the ways routes can fail."""
    app = create_app(settings, sessionmaker_=session_factory, clock=clock)

    @app.get("/test-only/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError(f"database password is {LEAK}")

    @app.get("/test-only/key-error")
    def key_error() -> dict[str, str]:
        return {"value": {}[LEAK]}  # type: ignore[index]

    @app.get("/test-only/conflict")
    def conflict() -> dict[str, str]:
        raise Conflict("the visit changed", {"version": 3})

    return app


@pytest.fixture
def app_client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def error_of(response: Response, status: int) -> dict[str, Any]:
    """Check the contract's shape and return the error object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def put_visit(client: TestClient, key: str, **kwargs: Any) -> Response:
    return client.put("/api/v1/integration/visits/RO-1", headers={"X-API-Key": key}, **kwargs)


class TestValidationErrors:
    def test_malformed_json_is_422_validation_error(self, client: TestClient, key: str) -> None:
        response = client.put(
            "/api/v1/integration/visits/RO-1",
            content=b'{"center": "OSL-01", ',
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        error = error_of(response, 422)
        assert error["code"] == "validation_error"
        assert isinstance(error["details"], list)
        assert error["details"]

    def test_bad_vin_and_bad_date_each_named(self, client: TestClient, key: str) -> None:
        body = visit_body(checked_in_at="yesterday-ish")
        body["vehicle"]["vin"] = "NOT-A-VIN"
        error = error_of(put_visit(client, key, json=body), 422)
        assert error["code"] == "validation_error"
        fields = {detail["field"] for detail in error["details"]}
        assert fields == {"vehicle.vin", "checked_in_at"}
        for detail in error["details"]:
            assert detail["message"]
            assert detail["location"] == "body"

    def test_wrong_check_digit_named(self, client: TestClient, key: str) -> None:
        vin = make_vin()
        wrong = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
        body = visit_body()
        body["vehicle"]["vin"] = wrong
        error = error_of(put_visit(client, key, json=body), 422)
        assert error["code"] == "validation_error"
        assert [d["field"] for d in error["details"]] == ["vehicle.vin"]

    def test_missing_fields_and_extra_field_all_named(self, client: TestClient, key: str) -> None:
        body = visit_body(unexpected="x")
        del body["concern"]
        del body["vehicle"]["model"]
        error = error_of(put_visit(client, key, json=body), 422)
        assert error["code"] == "validation_error"
        assert {d["field"] for d in error["details"]} == {
            "concern",
            "vehicle.model",
            "unexpected",
        }

    def test_naive_datetime_refused(self, client: TestClient, key: str) -> None:
        body = visit_body(booked_at="2026-11-10T12:00:00")
        error = error_of(put_visit(client, key, json=body), 422)
        assert error["code"] == "validation_error"
        assert [d["field"] for d in error["details"]] == ["booked_at"]

    def test_body_not_an_object_is_422(self, client: TestClient, key: str) -> None:
        error = error_of(put_visit(client, key, json=[1, 2, 3]), 422)
        assert error["code"] == "validation_error"

    @pytest.mark.usefixtures("key")
    def test_bad_path_parameter_is_422(self, client: TestClient) -> None:
        headers = login(client, "ola@example.no")
        error = error_of(client.get("/api/v1/visits/not-a-number", headers=headers), 422)
        assert error["code"] == "validation_error"
        assert [d["field"] for d in error["details"]] == ["visit_id"]
        assert error["details"][0]["location"] == "path"

    def test_body_that_is_not_json_is_422_before_credentials(self, client: TestClient) -> None:
        # FastAPI reads the body before it resolves any dependency, the caller too:
        # a body that is not JSON is refused as such, and reveals nothing.
        response = client.put(
            "/api/v1/integration/visits/RO-1",
            content=b"{",
            headers={"Content-Type": "application/json"},
        )
        assert error_of(response, 422)["code"] == "validation_error"

    def test_valid_body_without_credentials_is_401(self, client: TestClient) -> None:
        response = client.put("/api/v1/integration/visits/RO-1", json={"center": "OSL-01"})
        assert error_of(response, 401)["code"] == "not_authenticated"


class TestHttpErrors:
    def test_unknown_path_is_404_in_format(self, client: TestClient) -> None:
        error = error_of(client.get("/api/v1/no-such-thing"), 404)
        assert error["code"] == "not_found"

    def test_unknown_top_level_path_is_404_in_format(self, client: TestClient) -> None:
        error = error_of(client.get("/nope"), 404)
        assert error["code"] == "not_found"

    def test_wrong_method_is_405_in_format(self, client: TestClient) -> None:
        response = client.delete("/api/v1/auth/token")
        error = error_of(response, 405)
        assert error["code"] == "method_not_allowed"
        assert "POST" in response.headers["allow"]

    def test_get_on_put_route_is_405(self, client: TestClient) -> None:
        error = error_of(client.get("/api/v1/integration/visits/RO-1"), 405)
        assert error["code"] == "method_not_allowed"

    def test_domain_error_mapped_by_its_fields(self, app_client: TestClient) -> None:
        error = error_of(app_client.get("/test-only/conflict"), 409)
        assert error["code"] == "conflict"
        assert error["details"] == {"version": 3}


class TestUnexpectedErrors:
    @pytest.mark.parametrize("path", ["/test-only/boom", "/test-only/key-error"])
    def test_exception_is_500_internal_error_with_request_id(
        self, app_client: TestClient, path: str
    ) -> None:
        response = app_client.get(path)
        error = error_of(response, 500)
        assert error["code"] == "internal_error"
        request_id = error["details"]["request_id"]
        assert request_id
        assert request_id != "-"
        assert request_id == response.headers["X-Request-ID"]

    def test_no_internals_leak(self, app_client: TestClient) -> None:
        response = app_client.get("/test-only/boom")
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert LEAK not in response.text
        assert "RuntimeError" not in response.text
        assert "Traceback" not in response.text
        assert "password" not in response.text

    def test_callers_request_id_echoed(self, app_client: TestClient) -> None:
        response = app_client.get("/test-only/boom", headers={"X-Request-ID": "trace-abc-123"})
        error = error_of(response, 500)
        assert error["details"]["request_id"] == "trace-abc-123"
        assert response.headers["X-Request-ID"] == "trace-abc-123"

    def test_each_request_gets_its_own_id(self, app_client: TestClient) -> None:
        first = app_client.get("/test-only/boom").headers["X-Request-ID"]
        second = app_client.get("/test-only/boom").headers["X-Request-ID"]
        assert first != second

    def test_unusable_request_id_replaced(self, app_client: TestClient) -> None:
        response = app_client.get("/test-only/boom", headers={"X-Request-ID": "x" * 200})
        request_id = error_of(response, 500)["details"]["request_id"]
        assert request_id == response.headers["X-Request-ID"]
        assert len(request_id) <= 64

    def test_successful_response_carries_request_id(self, client: TestClient) -> None:
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.headers["X-Request-ID"]


class TestStartPageAndDocs:
    def test_start_page_is_html_linking_docs(self, client: TestClient) -> None:
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "direkte" in response.text
        assert 'href="/docs"' in response.text

    def test_openapi_lists_the_contract_paths(self, client: TestClient) -> None:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        for path, method in [
            ("/api/v1/auth/token", "post"),
            ("/api/v1/integration/visits/{external_id}", "put"),
            ("/api/v1/integration/visits/{external_id}/diagnoses", "post"),
            ("/api/v1/integration/visits/{external_id}/estimates", "post"),
            ("/api/v1/integration/visits/{external_id}/warranty-decisions", "post"),
            ("/api/v1/me/visits", "get"),
            ("/api/v1/visits/{visit_id}", "get"),
            ("/api/v1/visits/{visit_id}/estimates/{estimate_id}/approve", "post"),
        ]:
            assert method in paths.get(path, {}), path

    def test_openapi_lists_error_responses(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        assert "401" in paths["/api/v1/auth/token"]["post"]["responses"]

    def test_docs_page_served(self, client: TestClient) -> None:
        response = client.get("/docs")
        assert response.status_code == 200
        assert "openapi.json" in response.text
