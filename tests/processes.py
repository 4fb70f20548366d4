"""Real server processes over one database, for what must hold across processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SECRET = "two-process-secret-0123456789-abcdefghijklmnop"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def servers(
    database_url: str, data_dir: Path, count: int = 2, **env: str
) -> Iterator[list[httpx.Client]]:
    """Start ``count`` uvicorn processes (``direkte.api.asgi:app``) on one database."""
    environ = {
        **os.environ,
        "DIREKTE_DATABASE_URL": database_url,
        "DIREKTE_DATA_DIR": str(data_dir),
        "DIREKTE_SECRET_KEY": SECRET,
        "DIREKTE_LOG_LEVEL": "warning",
        **env,
    }
    ports = [_free_port() for _ in range(count)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "direkte.api.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=environ,
        )
        for port in ports
    ]
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) for port in ports]
    try:
        for client, proc in zip(clients, procs, strict=True):
            _wait_ready(client, proc)
        yield clients
    finally:
        for client in clients:
            client.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(client: httpx.Client, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            client.get("/openapi.json")
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")
