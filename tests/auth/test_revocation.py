"""Log-out, password change, disabling users, password rules and rehashing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.api.app import create_app
from direkte.audit.models import AuditEvent
from direkte.auth.models import RevokedToken
from direkte.auth.service import purge_revoked_tokens
from direkte.cli import main
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.db import make_engine, make_sessionmaker
from direkte.network.models import User
from direkte.network.passwords import needs_rehash
from tests.auth.test_auth import assert_error
from tests.conftest import T0
from tests.factories import PASSWORD, login, make_network

ME = "/api/v1/me/visits"
NEW_PASSWORD = "a-much-longer-new-password"


@pytest.fixture
def network(session: Session, clock: FixedClock) -> None:
    make_network(session, clock)


def user_id(session: Session, email: str) -> int:
    return int(session.scalars(sa.select(User.id).where(User.email == email)).one())


@pytest.mark.usefixtures("network")
class TestLogout:
    def test_logged_out_token_is_refused_and_others_live(self, client: TestClient) -> None:
        first, second = login(client, "ola@example.no"), login(client, "ola@example.no")
        assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
        assert_error(client.get(ME, headers=first), 401, "invalid_token")
        assert_error(client.post("/api/v1/auth/logout", headers=first), 401, "invalid_token")
        assert client.get(ME, headers=second).status_code == 200

    def test_logout_needs_a_bearer_token(self, client: TestClient) -> None:
        assert_error(client.post("/api/v1/auth/logout"), 401, "not_authenticated")

    def test_purge_forgets_only_expired_entries(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        headers = login(client, "ola@example.no")
        client.post("/api/v1/auth/logout", headers=headers)
        assert purge_revoked_tokens(session, now=clock.now()) == 0
        [expires_at] = session.scalars(sa.select(RevokedToken.expires_at)).all()
        assert purge_revoked_tokens(session, now=expires_at) == 1


@pytest.mark.usefixtures("network")
class TestChangePassword:
    def test_change_ends_older_tokens_and_new_password_works(
        self, client: TestClient, session: Session
    ) -> None:
        old = login(client, "ola@example.no")
        other = login(client, "ola@example.no")
        response = client.post(
            "/api/v1/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=old
        )
        assert response.status_code == 204, response.text
        assert_error(client.get(ME, headers=old), 401, "invalid_token")
        assert_error(client.get(ME, headers=other), 401, "invalid_token")
        fresh = login(client, "ola@example.no", NEW_PASSWORD)
        assert client.get(ME, headers=fresh).status_code == 200
        wrong = client.post(
            "/api/v1/auth/token", data={"username": "ola@example.no", "password": PASSWORD}
        )
        assert_error(wrong, 401, "invalid_credentials")
        actions = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action == "user.password_changed")
        ).all()
        assert actions == ["user.password_changed"]

    def test_wrong_current_password_is_422(self, client: TestClient) -> None:
        headers = login(client, "ola@example.no")
        response = client.post(
            "/api/v1/auth/password",
            json={"current": "not-the-password", "new": NEW_PASSWORD},
            headers=headers,
        )
        assert_error(response, 422, "wrong_current_password")
        assert client.get(ME, headers=headers).status_code == 200

    def test_new_password_shorter_than_12_is_422(self, client: TestClient) -> None:
        headers = login(client, "ola@example.no")
        response = client.post(
            "/api/v1/auth/password",
            json={"current": PASSWORD, "new": "elevenchars"},
            headers=headers,
        )
        assert_error(response, 422, "validation_error")
        assert [d["field"] for d in response.json()["error"]["details"]] == ["new"]


@pytest.mark.usefixtures("network")
class TestDisableUser:
    def test_ops_disable_ends_tokens_and_log_in(self, client: TestClient, session: Session) -> None:
        ola = login(client, "ola@example.no")
        ops = login(client, "ops@example.no")
        ola_id = user_id(session, "ola@example.no")
        response = client.post(f"/api/v1/users/{ola_id}/disable", headers=ops)
        assert response.status_code == 200, response.text
        assert response.json() == {"id": ola_id, "active": False}
        assert_error(client.get(ME, headers=ola), 401, "invalid_token")
        again = client.post(
            "/api/v1/auth/token", data={"username": "ola@example.no", "password": PASSWORD}
        )
        assert_error(again, 401, "invalid_credentials")

    def test_not_ops_is_403_and_unknown_user_404(
        self, client: TestClient, session: Session
    ) -> None:
        kari = login(client, "kari@example.no")
        ola_id = user_id(session, "ola@example.no")
        assert_error(client.post(f"/api/v1/users/{ola_id}/disable", headers=kari), 403, "ops_only")
        ops = login(client, "ops@example.no")
        assert_error(
            client.post("/api/v1/users/999999/disable", headers=ops), 404, "user_not_found"
        )


@pytest.mark.usefixtures("network")
class TestRehash:
    def test_hash_with_old_parameters_is_redone_at_log_in(
        self, client: TestClient, session: Session
    ) -> None:
        weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
        session.execute(
            sa.update(User).where(User.email == "ola@example.no").values(password_hash=weak)
        )
        session.commit()
        login(client, "ola@example.no")
        session.expire_all()
        stored = session.scalars(
            sa.select(User.password_hash).where(User.email == "ola@example.no")
        ).one()
        assert stored != weak
        assert not needs_rehash(stored)


def test_cli_user_disable_ends_tokens(cli_env: str) -> None:
    engine = make_engine(cli_env)
    factory = make_sessionmaker(engine)
    clock = FixedClock(T0)
    try:
        with factory() as session:
            make_network(session, clock)
        settings = Settings(secret_key="cli-test-secret-0123456789-abcdefghijklmnop")
        client = TestClient(create_app(settings, sessionmaker_=factory, clock=clock))
        headers = login(client, "ola@example.no")
        result = CliRunner().invoke(main, ["user", "disable", "OLA@example.no"])
        assert result.exit_code == 0, result.output
        assert_error(client.get(ME, headers=headers), 401, "invalid_token")
        missing = CliRunner().invoke(main, ["user", "disable", "nobody@example.no"])
        assert missing.exit_code == 1
    finally:
        engine.dispose()
