"""Log-in with the OAuth2 password flow, bearer tokens, and integration API keys."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from direkte.api.app import create_app
from direkte.auth import service
from direkte.auth.models import ApiKey
from direkte.cli import main
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.db import make_engine, make_sessionmaker
from tests.conftest import T0
from tests.factories import PASSWORD, login, make_network, visit_body

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture
def network(session: Session, clock: FixedClock) -> None:
    make_network(session, clock)


def token_response(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post(TOKEN_URL, data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def assert_error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


@pytest.mark.usefixtures("network")
class TestIssueToken:
    @pytest.mark.parametrize("email", ["ola@example.no", "kari@example.no", "ops@example.no"])
    def test_right_password_issues_bearer_token(
        self, client: TestClient, settings: Settings, email: str
    ) -> None:
        body = token_response(client, email)
        assert body["token_type"] == "bearer"
        assert isinstance(body["access_token"], str)
        assert body["access_token"]
        assert body["expires_in"] == settings.token_ttl_seconds

    def test_token_authenticates_customer(self, client: TestClient) -> None:
        response = client.get("/api/v1/me/visits", headers=login(client, "ola@example.no"))
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []

    def test_email_matched_case_insensitively(self, client: TestClient) -> None:
        body = token_response(client, "  OLA@Example.no ")
        assert body["token_type"] == "bearer"

    def test_wrong_password_is_401_invalid_credentials(self, client: TestClient) -> None:
        response = client.post(
            TOKEN_URL, data={"username": "ola@example.no", "password": "wrong-password"}
        )
        assert_error(response, 401, "invalid_credentials")
        assert response.headers["WWW-Authenticate"] == "Bearer"

    def test_staff_wrong_password_is_401_invalid_credentials(self, client: TestClient) -> None:
        response = client.post(TOKEN_URL, data={"username": "kari@example.no", "password": "x"})
        assert_error(response, 401, "invalid_credentials")

    def test_unknown_email_is_401_like_wrong_password(self, client: TestClient) -> None:
        unknown = client.post(
            TOKEN_URL, data={"username": "nobody@example.no", "password": PASSWORD}
        )
        wrong = client.post(TOKEN_URL, data={"username": "ola@example.no", "password": "nope1234"})
        assert_error(unknown, 401, "invalid_credentials")
        # The same answer either way: no hint which e-mails exist.
        assert unknown.json() == wrong.json()

    def test_inactive_user_cannot_log_in(self, client: TestClient, session: Session) -> None:
        session.execute(sa.text("UPDATE users SET active = false WHERE email = 'ola@example.no'"))
        session.commit()
        response = client.post(TOKEN_URL, data={"username": "ola@example.no", "password": PASSWORD})
        assert_error(response, 401, "invalid_credentials")

    def test_missing_form_fields_is_422(self, client: TestClient) -> None:
        response = client.post(TOKEN_URL, data={"username": "ola@example.no"})
        assert_error(response, 422, "validation_error")
        assert "password" in [d["field"] for d in response.json()["error"]["details"]]


@pytest.mark.usefixtures("network")
class TestBearerToken:
    def test_token_valid_until_expiry(
        self, client: TestClient, clock: FixedClock, settings: Settings
    ) -> None:
        headers = login(client, "ola@example.no")
        clock.advance(timedelta(seconds=settings.token_ttl_seconds - 1))
        assert client.get("/api/v1/me/visits", headers=headers).status_code == 200

    def test_expired_token_is_401(
        self, client: TestClient, clock: FixedClock, settings: Settings
    ) -> None:
        headers = login(client, "ola@example.no")
        assert client.get("/api/v1/me/visits", headers=headers).status_code == 200
        clock.advance(timedelta(seconds=settings.token_ttl_seconds + 1))
        response = client.get("/api/v1/me/visits", headers=headers)
        assert_error(response, 401, "invalid_token")

    def test_only_tokens_that_pass_are_remembered(self, client: TestClient) -> None:
        # The signature check is memoized per token (auth.service._signed_claims):
        # made-up tokens must not fill the memo.
        remembered = service._signed_claims.cache_info().currsize
        for n in range(20):
            headers = {"Authorization": f"Bearer made.up.{n}"}
            assert_error(client.get("/api/v1/me/visits", headers=headers), 401, "invalid_token")
        assert service._signed_claims.cache_info().currsize == remembered

    def test_expired_staff_token_is_401(
        self, client: TestClient, clock: FixedClock, settings: Settings
    ) -> None:
        headers = login(client, "kari@example.no")
        clock.advance(timedelta(seconds=settings.token_ttl_seconds + 60))
        assert_error(client.get("/api/v1/me/visits", headers=headers), 401, "invalid_token")

    @pytest.mark.parametrize(
        "token",
        [
            "garbage",
            "eyJhbGciOiJIUzI1NiJ9.e30.abc",
            # Well-formed, {"sub": "1", "exp": far future}, but the signature is wrong.
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ."
            "Zb8dx2W3LwMYV5e4BYNKyHSVPgU9-Qn2e7NbcVSjvWI",
        ],
    )
    def test_garbage_token_is_401(self, client: TestClient, token: str) -> None:
        response = client.get("/api/v1/me/visits", headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "invalid_token")

    def test_no_token_is_401(self, client: TestClient) -> None:
        assert_error(client.get("/api/v1/me/visits"), 401, "not_authenticated")

    def test_token_of_deactivated_user_is_401(self, client: TestClient, session: Session) -> None:
        headers = login(client, "ola@example.no")
        session.execute(sa.text("UPDATE users SET active = false WHERE email = 'ola@example.no'"))
        session.commit()
        assert_error(client.get("/api/v1/me/visits", headers=headers), 401, "invalid_token")

    def test_token_from_other_secret_is_401(
        self,
        client: TestClient,
        session_factory: sessionmaker[Session],
        clock: FixedClock,
    ) -> None:
        headers = login(client, "ola@example.no")
        other = Settings(secret_key="another-secret-key-0123456789-abcdefghijklmn")
        other_app = create_app(other, sessionmaker_=session_factory, clock=clock)
        response = TestClient(other_app).get("/api/v1/me/visits", headers=headers)
        assert_error(response, 401, "invalid_token")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def cli_client(cli_env: str) -> Iterator[TestClient]:
    """The API on the CLI's database, with the network loaded, to try keys the CLI made."""
    engine = make_engine(cli_env)
    factory = make_sessionmaker(engine)
    clock = FixedClock(T0)
    with factory() as session:
        make_network(session, clock)
    settings = Settings(secret_key="cli-test-secret-0123456789-abcdefghijklmnop")
    app = create_app(settings, sessionmaker_=factory, clock=clock)
    yield TestClient(app, raise_server_exceptions=False)
    engine.dispose()


def create_key(name: str) -> str:
    result = invoke("apikey", "create", "--name", name)
    assert result.exit_code == 0, result.output
    return result.stdout.rstrip("\n").splitlines()[-1]


def key_rows(cli_env: str) -> list[ApiKey]:
    engine = make_engine(cli_env)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(sa.select(ApiKey)))
    finally:
        engine.dispose()


def push(client: TestClient, key: str) -> int:
    response = client.put(
        "/api/v1/integration/visits/RO-1", json=visit_body(), headers={"X-API-Key": key}
    )
    return response.status_code


class TestApiKeyCommands:
    def test_create_prints_key_alone_on_last_line(self, cli_client: TestClient) -> None:
        result = invoke("apikey", "create", "--name", "dms")
        assert result.exit_code == 0, result.output
        last = result.stdout.rstrip("\n").splitlines()[-1]
        assert last.startswith("dk_")
        assert " " not in last
        assert len(last) > 30
        assert push(cli_client, last) == 201

    def test_only_sha256_of_key_stored(self, cli_env: str) -> None:
        key = create_key("dms")
        (row,) = key_rows(cli_env)
        assert row.name == "dms"
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in (row.key_hash, row.prefix)
        assert key.startswith(row.prefix)
        assert len(row.prefix) < len(key) // 2

    def test_each_key_is_different(self, cli_env: str) -> None:
        assert create_key("one") != create_key("two")
        assert len({row.key_hash for row in key_rows(cli_env)}) == 2

    def test_list_shows_name_but_not_key(self, cli_env: str) -> None:
        key = create_key("dms")
        result = invoke("apikey", "list")
        assert result.exit_code == 0, result.output
        assert "dms" in result.stdout
        assert "active" in result.stdout
        assert key not in result.output

    def test_revoked_key_is_401(self, cli_client: TestClient) -> None:
        key = create_key("dms")
        assert push(cli_client, key) == 201
        result = invoke("apikey", "revoke", "dms")
        assert result.exit_code == 0, result.output
        response = cli_client.put(
            "/api/v1/integration/visits/RO-1", json=visit_body(), headers={"X-API-Key": key}
        )
        assert_error(response, 401, "not_authenticated")
        assert "revoked" in invoke("apikey", "list").stdout

    def test_revoking_one_key_keeps_the_other(self, cli_client: TestClient) -> None:
        first = create_key("first")
        second = create_key("second")
        assert invoke("apikey", "revoke", "first").exit_code == 0
        refused = cli_client.put(
            "/api/v1/integration/visits/RO-1", json=visit_body(), headers={"X-API-Key": first}
        )
        assert_error(refused, 401, "not_authenticated")
        assert push(cli_client, second) == 201

    def test_unknown_key_is_401(self, cli_client: TestClient) -> None:
        create_key("dms")
        response = cli_client.put(
            "/api/v1/integration/visits/RO-1",
            json=visit_body(),
            headers={"X-API-Key": "dk_not-a-real-key"},
        )
        assert_error(response, 401, "not_authenticated")

    def test_duplicate_name_fails_and_keeps_one_key(self, cli_env: str) -> None:
        create_key("dms")
        result = invoke("apikey", "create", "--name", "dms")
        assert result.exit_code != 0
        assert len(key_rows(cli_env)) == 1

    def test_revoke_unknown_name_fails(self, cli_env: str) -> None:
        assert invoke("apikey", "revoke", "nope").exit_code != 0

    def test_bearer_token_is_not_an_api_key(self, cli_client: TestClient) -> None:
        headers = login(cli_client, "kari@example.no")
        response = cli_client.put(
            "/api/v1/integration/visits/RO-1", json=visit_body(), headers=headers
        )
        assert_error(response, 401, "not_authenticated")
