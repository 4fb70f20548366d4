"""Limits: the log-in lock and the per-caller rate (in the database; Redis below)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from limits.storage import RedisStorage
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import greenlet_spawn

from direkte.api.app import create_app
from direkte.auth.limits import Limits, RedisOnLoop, make_limits
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.db import make_engine, make_sessionmaker
from direkte.errors import RateLimited
from tests.auth.test_auth import assert_error
from tests.conftest import T0, fresh_database
from tests.factories import PASSWORD, login, make_api_key, make_network, visit_body
from tests.loops import run_in_own_loop
from tests.processes import servers

TOKEN_URL = "/api/v1/auth/token"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def network(session: Session, clock: FixedClock) -> None:
    make_network(session, clock)


def attempt(client: TestClient | httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post(TOKEN_URL, data={"username": email, "password": password})


@pytest.mark.usefixtures("network")
class TestLoginLock:
    def test_five_failures_lock_even_the_right_password(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        for _ in range(5):
            assert_error(
                attempt(client, "ola@example.no", "wrong-password"), 401, "invalid_credentials"
            )
        locked = attempt(client, "OLA@example.no", PASSWORD)
        assert_error(locked, 429, "rate_limited")
        assert locked.headers["Retry-After"] == "900"
        clock.advance(timedelta(minutes=10))
        assert attempt(client, "ola@example.no", PASSWORD).headers["Retry-After"] == "300"
        clock.advance(timedelta(minutes=5))
        assert attempt(client, "ola@example.no", PASSWORD).status_code == 200

    def test_unknown_account_locks_the_same_way(self, client: TestClient) -> None:
        answers = [attempt(client, email, "wrong-password") for email in ["nobody@example.no"] * 6]
        known = [attempt(client, email, "wrong-password") for email in ["kari@example.no"] * 6]
        assert [a.status_code for a in answers] == [401] * 5 + [429]
        assert [a.status_code for a in known] == [401] * 5 + [429]
        assert answers[-1].json() == known[-1].json()
        assert answers[-1].headers["Retry-After"] == known[-1].headers["Retry-After"]

    def test_success_does_not_reset_the_failures(self, client: TestClient) -> None:
        for _ in range(4):
            attempt(client, "ola@example.no", "wrong-password")
        assert attempt(client, "ola@example.no", PASSWORD).status_code == 200
        attempt(client, "ola@example.no", "wrong-password")
        assert_error(attempt(client, "ola@example.no", PASSWORD), 429, "rate_limited")

    def test_lock_is_per_account(self, client: TestClient) -> None:
        for _ in range(5):
            attempt(client, "ola@example.no", "wrong-password")
        assert attempt(client, "kari@example.no", PASSWORD).status_code == 200


@pytest.fixture
def limited(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path, network: None
) -> TestClient:
    settings = Settings(
        secret_key="test-secret-key-0123456789-abcdefghijklmnop",
        data_dir=tmp_path,
        rate_limit="3/minute",
        rate_limit_anonymous="2/minute",
    )
    app = create_app(settings, sessionmaker_=session_factory, clock=clock)
    return TestClient(app, raise_server_exceptions=False)


class TestCallerRate:
    def test_token_over_its_rate_is_429_until_the_window_passes(
        self, limited: TestClient, clock: FixedClock
    ) -> None:
        headers = login(limited, "ola@example.no")  # the address's 1st request
        answers = [limited.get("/api/v1/me/visits", headers=headers) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert_error(answers[-1], 429, "rate_limited")
        assert answers[-1].headers["Retry-After"] == "60"
        other = login(limited, "kari@example.no")  # another token: its own count
        assert limited.get("/api/v1/me/visits", headers=other).status_code == 200
        clock.advance(timedelta(seconds=60))
        assert limited.get("/api/v1/me/visits", headers=headers).status_code == 200

    def test_api_key_and_address_are_counted(
        self, limited: TestClient, session: Session, clock: FixedClock
    ) -> None:
        key = make_api_key(session, clock)
        put = [
            limited.put(
                "/api/v1/integration/visits/RO-1", json=visit_body(), headers={"X-API-Key": key}
            )
            for _ in range(4)
        ]
        assert [a.status_code for a in put][-1] == 429
        anonymous = [limited.get("/api/v1/me/visits") for _ in range(3)]
        assert [a.status_code for a in anonymous] == [401, 401, 429]


def _hits(limits: Limits, n: int) -> list[int | None]:
    """``n`` requests of one token: None where counted, else the refusal's Retry-After."""
    answers: list[int | None] = []
    for _ in range(n):
        try:
            limits.hit_caller(token="one-token", key=None, address="-")
            answers.append(None)
        except RateLimited as refused:
            answers.append(refused.retry_after)
    return answers


def test_redis_is_awaited_on_the_event_loop() -> None:
    """In a request's greenlet (PostgreSQL's requests, kit.offload) the Redis window is
    counted on limits' asyncio storage: the round trip is awaited, not made while the
    loop waits. Here the synchronous storage points nowhere, so only the loop's path
    can count; both use the same keys, so the synchronous one (SQLite's requests,
    commands) sees what the loop counted."""
    prefix = uuid.uuid4().hex

    def limits(url: str, on_loop: RedisOnLoop | None = None) -> Limits:
        return Limits(
            RedisStorage(url, key_prefix=prefix),
            time.time,
            caller_rate="2/minute",
            address_rate="off",
            login_failures=5,
            login_window_seconds=900,
            on_loop=on_loop,
        )

    nowhere = limits("redis://127.0.0.1:1/0", RedisOnLoop(REDIS_URL, prefix))

    async def on_the_loop() -> list[int | None]:
        return await greenlet_spawn(_hits, nowhere, 3)

    counted = run_in_own_loop(on_the_loop)
    assert counted[:2] == [None, None]
    assert counted[2] is not None
    assert 0 < counted[2] <= 60
    with pytest.raises(RedisConnectionError):  # off the loop: the synchronous storage
        _hits(nowhere, 1)
    assert _hits(limits(REDIS_URL), 1)[0] is not None  # the loop's three hits are in the window

    def lock(email: str) -> str | None:
        for _ in range(5):
            nowhere.record_login_failure(email)
        try:
            nowhere.check_login(email)
        except RateLimited as refused:
            return str(refused)
        return None

    async def lock_on_the_loop() -> str | None:
        found = await greenlet_spawn(lock, "ola@example.no")
        await nowhere.aclose()  # as the app's shutdown does
        return found

    refusal = run_in_own_loop(lock_on_the_loop)
    assert refusal is not None
    assert "too many failed log-ins" in refusal


def test_the_app_counts_in_redis_on_the_loop_from_a_url_without_a_port() -> None:
    """``make_limits`` gives the Redis storage its loop twin, whose pool redis-py makes
    from the URL: a URL without a port (6379 by default) counts on the loop too."""
    prefix = uuid.uuid4().hex
    settings = Settings(redis_url="redis://127.0.0.1/0", redis_prefix=prefix, rate_limit="1/minute")
    limits = make_limits(settings, make_sessionmaker(make_engine("sqlite://")), FixedClock(T0))
    assert limits.on_loop is not None

    async def on_the_loop() -> list[int | None]:
        try:
            return await greenlet_spawn(_hits, limits, 2)
        finally:
            await limits.aclose()

    counted = run_in_own_loop(on_the_loop)
    assert counted[0] is None
    assert counted[1] is not None


@pytest.mark.parametrize("store", ["database", "redis"])
def test_limits_hold_across_two_processes(backend: str, tmp_path: Path, store: str) -> None:
    # Redis on both databases: on PostgreSQL the servers count on the event loop
    # (asyncio storage), on SQLite in the thread pool (the synchronous one).
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            make_network(session, FixedClock(T0))
        engine.dispose()
        env = {"DIREKTE_RATE_LIMIT": "6/minute", "DIREKTE_RATE_LIMIT_ANONYMOUS": "100/minute"}
        if store == "redis":
            env |= {"DIREKTE_REDIS_URL": REDIS_URL, "DIREKTE_REDIS_PREFIX": uuid.uuid4().hex}
        with servers(url, tmp_path / "data", **env) as (a, b):
            # Five failures split over both processes lock the account in both.
            for client in (a, b, a, b, a):
                assert attempt(client, "ola@example.no", "wrong-password").status_code == 401
            for client in (a, b):
                locked = attempt(client, "ola@example.no", PASSWORD)
                assert locked.status_code == 429, locked.text
                assert 0 < int(locked.headers["Retry-After"]) <= 900
            # One token's rate is counted over both processes.
            token = attempt(a, "kari@example.no", PASSWORD).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            codes = [c.get("/api/v1/me/visits", headers=headers).status_code for c in (a, b) * 4]
            assert codes == [200] * 6 + [429] * 2


def test_a_counter_connection_dropped_by_the_server_is_replaced(
    backend: str, tmp_path: Path
) -> None:
    """The counters' engine pings nothing before use (every request counts): a pooled
    connection the server dropped fails one upsert, which is retried on a new one."""
    import sqlalchemy as sa

    from direkte.auth.limits import _incr
    from direkte.db import counter_engine

    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    with fresh_database("postgresql", tmp_path) as url:
        counters = counter_engine(make_engine(url, pool_size=2))
        params = {"key": "caller", "amount": 1, "expires": 1e12, "now": 1.0}
        try:
            assert _incr(counters, params) == 1
            # Two pooled connections, both dropped (as by a server restart): the one
            # retry must not be handed the other dead one.
            with counters.connect() as one, counters.connect() as two:
                pids = [c.execute(sa.text("SELECT pg_backend_pid()")).scalar() for c in (one, two)]
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                sql = sa.text("SELECT pg_terminate_backend(:p)")
                assert all(conn.execute(sql, {"p": pid}).scalar() for pid in pids)
            admin.dispose()
            assert _incr(counters, params) == 2  # counted once, on a new connection
            with counters.connect() as conn:
                assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() not in pids
        finally:
            counters.dispose()
