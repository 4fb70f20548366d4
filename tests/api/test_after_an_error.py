"""After a 500 the server goes on as before: the client's keep-alive connection serves
its next request, and the request's database connection is back in the pool, clean.

A real uvicorn server (in a thread, direkte's HTTP protocol) over a real engine with
one pooled connection, so that the request after the error runs on the very database
connection the failed one used (a PostgreSQL connection left in its failed transaction
would refuse every statement after it).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from direkte.api.app import create_app
from direkte.api.serving import HTTP_PROTOCOL
from direkte.config import Settings
from direkte.kit.deps import SessionDep
from tests.conftest import fresh_database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def app(backend: str, tmp_path: Path) -> Iterator[FastAPI]:
    with fresh_database(backend, tmp_path) as url:
        settings = Settings(
            database_url=url,
            data_dir=tmp_path,
            secret_key="after-error-secret-0123456789-abcdefghijk",
            db_pool_size=1,
        )
        app = create_app(settings)

        @app.get("/test-only/database-error")
        def database_error(session: SessionDep) -> dict[str, str]:
            session.execute(sa.text("SELECT no_such_column FROM users"))
            return {}

        @app.get("/test-only/error")
        def error() -> dict[str, str]:
            raise RuntimeError("boom")

        yield app


@pytest.fixture
def server(app: FastAPI) -> Iterator[int]:
    port = _free_port()
    # log_config=None: uvicorn's loggers reach the test's log capture.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=HTTP_PROTOCOL, log_config=None, log_level="info"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(timeout=10)


def _send(
    conn: http.client.HTTPConnection, method: str, path: str, body: str = ""
) -> tuple[int, Any, http.client.HTTPResponse]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null"), response


@pytest.mark.parametrize("path", ["/test-only/database-error", "/test-only/error"])
def test_the_connection_after_a_500_serves_the_next_request(
    server: int, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        with caplog.at_level(logging.INFO):
            status, body, response = _send(conn, "GET", path)
        assert status == 500
        assert body["error"]["code"] == "internal_error"
        assert response.getheader("Connection") != "close"
        first_socket = conn.sock
        assert first_socket is not None
        # The same TCP connection, and the same (only) database connection: a failed
        # log-in reads the users and writes the failure count.
        for _ in range(2):
            status, body, _ = _send(
                conn, "POST", "/api/v1/auth/token", "username=nobody@example.com&password=x"
            )
            assert status == 401, body
            assert body["error"]["code"] == "invalid_credentials"
            assert conn.sock is first_socket
    finally:
        conn.close()
    # Logged once, by direkte (log_unexpected: for a database error without its
    # message, which may quote a row); uvicorn logged no traceback of its own.
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in records] == ["direkte.api"]
