"""Revocation holds across processes: two real servers over one database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from direkte.cli import main
from direkte.clock import FixedClock
from direkte.config import get_settings
from direkte.db import make_engine, make_sessionmaker
from direkte.network.models import User
from tests.conftest import T0, fresh_database
from tests.factories import PASSWORD, make_api_key, make_network, visit_body
from tests.processes import servers

ME = "/api/v1/me/visits"
NEW_PASSWORD = "a-much-longer-new-password"


def bearer(client: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def refused(client: httpx.Client, headers: dict[str, str]) -> bool:
    return client.get(ME, headers=headers).status_code == 401


def test_revocations_hold_in_every_process(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            make_network(session, FixedClock(T0))
            key = make_api_key(session, FixedClock(T0))
        engine.dispose()
        with servers(url, tmp_path / "data") as (a, b):
            # Log-out in A: B refuses the token at once (and had accepted it).
            token = bearer(a, "ola@example.no")
            assert not refused(b, token)
            assert a.post("/api/v1/auth/logout", headers=token).status_code == 204
            assert refused(b, token)

            # Password change in B: every older token is refused in A.
            old = bearer(a, "ola@example.no")
            assert not refused(a, old)
            change = {"current": PASSWORD, "new": NEW_PASSWORD}
            assert b.post("/api/v1/auth/password", json=change, headers=old).status_code == 204
            assert refused(a, old)
            assert not refused(a, bearer(b, "ola@example.no", NEW_PASSWORD))

            # Ops disable in A: the user's token is refused in B.
            kari = bearer(b, "kari@example.no")
            assert not refused(b, kari)
            ops = bearer(a, "ops@example.no")
            kari_id = _user_id(url, "kari@example.no")
            assert a.post(f"/api/v1/users/{kari_id}/disable", headers=ops).status_code == 200
            assert refused(b, kari)

            # A key revoked with the command is refused by both at once.
            put = "/api/v1/integration/visits/RO-1"
            assert b.put(put, json=visit_body(), headers={"X-API-Key": key}).status_code in (
                200,
                201,
            )
            monkeypatch.setenv("DIREKTE_DATABASE_URL", url)
            monkeypatch.setenv("DIREKTE_SECRET_KEY", "x" * 40)
            get_settings.cache_clear()
            try:
                result = CliRunner().invoke(main, ["apikey", "revoke", "dms"])
            finally:
                get_settings.cache_clear()
            assert result.exit_code == 0, result.output
            for client in (a, b):
                answer = client.put(put, json=visit_body(), headers={"X-API-Key": key})
                assert answer.status_code == 401, answer.text


def _user_id(url: str, email: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.select(User.id).where(User.email == email)))
    finally:
        engine.dispose()
