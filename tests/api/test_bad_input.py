"""Input that used to answer 500 (issue 15 §4), each pinned: now 4xx on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from direkte.api.body import BodyGuardMiddleware
from direkte.clock import FixedClock
from direkte.escalations.schemas import CallCreate
from tests.auth.test_auth import assert_error
from tests.escalations.conftest import Case, World
from tests.factories import login, make_api_key, make_network, push_visit, visit_body

OVERFLOWING = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00"]


@pytest.fixture
def key(session: Session, clock: FixedClock) -> str:
    make_network(session, clock)
    return make_api_key(session, clock)


def fields_of(response: object) -> list[str]:
    return [d["field"] for d in response.json()["error"]["details"]]  # type: ignore[attr-defined]


class TestNul:
    def test_nul_in_log_in_username_is_422(self, client: TestClient, key: str) -> None:
        response = client.post(
            "/api/v1/auth/token",
            content=b"username=x%00y@example.com&password=whatever-password",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert_error(response, 422, "validation_error")

    def test_nul_in_json_text_is_422(self, client: TestClient, key: str) -> None:
        response = client.put(
            "/api/v1/integration/visits/RO-1",
            json=visit_body(concern="brakes\u0000squeal"),
            headers={"X-API-Key": key},
        )
        assert_error(response, 422, "validation_error")
        # Nothing broke: the connection serves the next request.
        assert push_visit(client, key) > 0

    def test_nul_in_query_or_path_is_422(self, client: TestClient, key: str) -> None:
        headers = login(client, "ola@example.no")
        assert_error(
            client.get("/api/v1/me/visits?cursor=a%00b", headers=headers), 422, "validation_error"
        )
        assert_error(client.get("/api/v1/visits/1%00", headers=headers), 422, "validation_error")


class TestDateTimesOutOfUtcRange:
    @pytest.mark.parametrize("value", OVERFLOWING)
    def test_visit_time_is_422_naming_the_field(
        self, client: TestClient, key: str, value: str
    ) -> None:
        response = client.put(
            "/api/v1/integration/visits/RO-1",
            json=visit_body(booked_at=value),
            headers={"X-API-Key": key},
        )
        assert_error(response, 422, "validation_error")
        assert fields_of(response) == ["booked_at"]

    @pytest.mark.parametrize("value", OVERFLOWING)
    def test_called_at_over_http_is_422_naming_the_field(
        self, world: World, case: Case, value: str
    ) -> None:
        response = world.act(
            case.id, "calls", "kari@example.no", {"summary": "Called", "called_at": value}
        )
        assert_error(response, 422, "validation_error")
        assert fields_of(response) == ["called_at"]

    @pytest.mark.parametrize("value", OVERFLOWING)
    def test_called_at_is_refused(self, value: str) -> None:
        with pytest.raises(ValueError, match="out of range once converted to UTC"):
            CallCreate.model_validate(
                {"summary": "Called", "called_at": value, "duration_seconds": 60}
            )

    @pytest.mark.parametrize("value", OVERFLOWING)
    def test_backtest_from_is_422(self, client: TestClient, key: str, value: str) -> None:
        response = client.post(
            "/api/v1/policy/backtest",
            json={"policy": {}, "from": value, "to": "2026-12-01"},
            headers=login(client, "ops@example.no"),
        )
        assert_error(response, 422, "validation_error")
        assert fields_of(response) == ["from"]

    def test_extremes_that_fit_still_pass(self) -> None:
        call = CallCreate.model_validate(
            {"summary": "Called", "called_at": "9999-12-31T23:59:59+00:00", "duration_seconds": 60}
        )
        assert call.called_at == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


class TestAmountOverflow:
    def test_line_amount_past_13_digits_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        line = {
            "kind": "part",
            "description": "Everything",
            "quantity": "99999999.999",
            "unit_price": "9999999999999.99",
        }
        response = client.post(
            "/api/v1/integration/visits/RO-1/estimates",
            json={"lines": [line], "reason": "initial"},
            headers={"X-API-Key": key},
        )
        assert_error(response, 422, "validation_error")
        assert fields_of(response) == ["lines[0]"]

    def test_total_past_13_digits_is_422(self, client: TestClient, key: str) -> None:
        push_visit(client, key)
        line = {
            "kind": "part",
            "description": "Big",
            "quantity": "1",
            "unit_price": "9000000000000",
        }
        response = client.post(
            "/api/v1/integration/visits/RO-1/estimates",
            json={"lines": [line, line], "reason": "initial"},
            headers={"X-API-Key": key},
        )
        assert_error(response, 422, "validation_error")


class TestBodySize:
    def test_declared_length_over_the_limit_is_413_unread(self, client: TestClient) -> None:
        body = b"x" * (1024 * 1024 + 1)
        response = client.post(
            "/api/v1/policy/backtest", content=body, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 413, "payload_too_large")

    def test_streamed_body_is_refused_past_the_limit(self, client: TestClient, key: str) -> None:
        def chunks() -> Iterator[bytes]:
            for _ in range(32):  # 2 MiB in 64 KiB chunks, no Content-Length
                yield b" " * 65536

        response = client.put(
            "/api/v1/integration/visits/RO-1",
            content=chunks(),
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        assert_error(response, 413, "payload_too_large")

    def test_reading_stops_at_the_first_chunk_past_the_limit(self) -> None:
        pulled = 0

        async def receive() -> Message:
            nonlocal pulled
            pulled += 1
            return {"type": "http.request", "body": b" " * 65536, "more_body": pulled < 64}

        async def app(_scope: Scope, receive: Receive, _send: Send) -> None:
            while (await receive()).get("more_body"):
                pass

        async def send(_message: Message) -> None:
            raise AssertionError("nothing is sent by this app")

        guard = BodyGuardMiddleware(app, max_bytes=1024 * 1024)
        scope = {"type": "http", "path": "/x", "query_string": b"", "headers": []}
        with pytest.raises(HTTPException) as refused:
            asyncio.run(guard(scope, receive, send))
        assert refused.value.status_code == 413
        assert pulled == 17  # 16 chunks are 1 MiB; the 17th is one too many

    def test_body_at_the_limit_is_read(self, client: TestClient, key: str) -> None:
        body = visit_body(concern="x" * 1000)
        response = client.put(
            "/api/v1/integration/visits/RO-1", json=body, headers={"X-API-Key": key}
        )
        assert response.status_code == 201, response.text


class TestIdsOutOfRange:
    """Found by the contract fuzzing (tests/api/test_contract_fuzz.py): a path id past
    the databases' INTEGER was a 500 on PostgreSQL (integer out of range)."""

    @pytest.mark.parametrize("path", ["/api/v1/users/{}/disable"])
    def test_an_id_past_integer_is_422_naming_it(
        self, client: TestClient, key: str, path: str
    ) -> None:
        headers = login(client, "ops@example.no")
        response = client.post(path.format(117706274424), headers=headers)
        assert_error(response, 422, "validation_error")
        assert fields_of(response) == ["user_id"]


class TestTimesAsNumbers:
    """Found by the contract fuzzing: Pydantic took a number for a time (seconds since
    midnight or since 1970) where the document says ISO 8601 text; now 422."""

    def test_quiet_hours_as_numbers_are_422(self, client: TestClient, key: str) -> None:
        response = client.put(
            "/api/v1/notifications/quiet-hours",
            json={"start": 0, "end": 1},
            headers=login(client, "kari@example.no"),
        )
        assert_error(response, 422, "validation_error")
        assert sorted(fields_of(response)) == ["end", "start"]

    @pytest.mark.parametrize("field", ["booked_at", "appointment_date"])
    def test_visit_times_as_numbers_are_422(self, client: TestClient, key: str, field: str) -> None:
        response = client.put(
            "/api/v1/integration/visits/RO-1",
            json=visit_body(**{field: 1700000000}),
            headers={"X-API-Key": key},
        )
        assert_error(response, 422, "validation_error")
        assert fields_of(response) == [field]
