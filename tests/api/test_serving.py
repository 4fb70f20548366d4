"""uvicorn's connections get TCP_NODELAY, also where uvicorn's own listener loses it."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from direkte.api.serving import (
    EVENT_LOOP,
    H11_PROTOCOL,
    HTTP_PROTOCOL,
    NoDelayH11Protocol,
    NoDelayHttpToolsProtocol,
)


async def _app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never called
    raise AssertionError("not called")


@contextmanager
def _accepted_socket() -> Iterator[socket.socket]:
    """A connection accepted by a listener bound as ``uvicorn --workers N`` binds it."""
    with closing(socket.socket(socket.AF_INET)) as listener:  # proto 0, as uvicorn's
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with closing(socket.create_connection(listener.getsockname())):
            accepted, _ = listener.accept()
            with closing(accepted):
                yield accepted


class _Transport(asyncio.Transport):
    def __init__(self, sock: socket.socket) -> None:
        super().__init__({"socket": sock, "peername": ("127.0.0.1", 1), "sockname": None})


def _nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_the_listener_uvicorn_binds_for_workers_leaves_nagle_on() -> None:
    # The reason for the protocol: if this starts failing, uvicorn fixed it upstream.
    with _accepted_socket() as sock:
        assert sock.proto == 0
        assert _nodelay(sock) == 0


@pytest.mark.parametrize(
    ("name", "protocol_class"),
    [(HTTP_PROTOCOL, NoDelayHttpToolsProtocol), (H11_PROTOCOL, NoDelayH11Protocol)],
)
def test_the_protocol_turns_nagle_off(name: str, protocol_class: type[Any]) -> None:
    config = Config(app=_app, http=name, log_level="warning")
    config.load()
    assert config.http_protocol_class is protocol_class
    loop = asyncio.new_event_loop()
    try:
        with _accepted_socket() as sock:
            protocol = protocol_class(config, ServerState(), {}, _loop=loop)
            protocol.connection_made(_Transport(sock))
            assert _nodelay(sock) == 1
            protocol.connections.discard(protocol)
            if protocol.timeout_keep_alive_task is not None:
                protocol.timeout_keep_alive_task.cancel()
    finally:
        loop.close()


def test_serve_runs_httptools_on_uvloop() -> None:
    # The stack chosen by measurement (docs/performance.md): uvloop where it is
    # installed, httptools as the parser, with TCP_NODELAY.
    config = Config(app=_app, http=HTTP_PROTOCOL, loop=EVENT_LOOP, log_level="warning")
    config.load()
    assert issubclass(config.http_protocol_class, HttpToolsProtocol)
    if sys.platform != "win32":
        import uvloop

        assert config.get_loop_factory() is uvloop.new_event_loop


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_uvloop_sets_nodelay_itself_where_asyncio_does_not() -> None:
    # Why the protocol's own TCP_NODELAY is kept although `serve` runs on uvloop: on
    # uvloop it is redundant (one system call per connection), but without uvloop
    # ("auto" falls back to asyncio) it is what keeps Nagle's algorithm off.
    import uvloop

    async def accepted_nodelay() -> int:
        with closing(socket.socket(socket.AF_INET)) as listener:  # proto 0, as uvicorn's
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            loop = asyncio.get_running_loop()
            seen: asyncio.Future[int] = loop.create_future()

            class Probe(asyncio.Protocol):
                def connection_made(self, transport: asyncio.BaseTransport) -> None:
                    sock = transport.get_extra_info("socket")
                    seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

            server = await loop.create_server(Probe, sock=listener)
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            try:
                return await asyncio.wait_for(seen, 10)
            finally:
                writer.close()
                server.close()

    assert asyncio.run(accepted_nodelay()) == 0
    assert uvloop.run(accepted_nodelay()) == 1


def test_serve_passes_the_stack_and_a_patient_worker_healthcheck(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from click.testing import CliRunner

    from direkte.api.serving import WORKER_HEALTHCHECK_SECONDS
    from direkte.cli import main

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(app=app, **kwargs))
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--no-demo", "--no-worker"])
    assert result.exit_code == 0, result.output
    assert seen["app"] == "direkte.api.asgi:app"
    assert seen["workers"] == 2
    assert seen["http"] == HTTP_PROTOCOL
    assert seen["loop"] == EVENT_LOOP
    # Starting workers load the language models holding the GIL: uvicorn's 5 s
    # health check killed them on a busy machine, again and again.
    assert seen["timeout_worker_healthcheck"] == WORKER_HEALTHCHECK_SECONDS >= 30


def test_a_worker_settles_its_heap_once_the_app_is_loaded(tmp_path: Any) -> None:
    """Importing the ASGI module (what each uvicorn worker does) leaves the start-up's
    objects in the collector's permanent generation and the serving thresholds set, so
    that no later collection walks them; the app still answers."""
    import json
    import os
    import subprocess

    from direkte.api.serving import GC_THRESHOLDS

    probe = (
        "import gc, json\n"
        "from starlette.testclient import TestClient\n"
        "from direkte.api.asgi import app\n"
        "frozen, thresholds = gc.get_freeze_count(), gc.get_threshold()\n"
        "with TestClient(app) as client:\n"
        "    status = client.get('/openapi.json').status_code\n"
        "print(json.dumps([frozen, thresholds, status]))\n"
    )
    env = {
        **os.environ,
        "DIREKTE_DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}",
        "DIREKTE_DATA_DIR": str(tmp_path),
        "DIREKTE_SECRET_KEY": "probe-secret-probe-secret-probe-secret",
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    frozen, thresholds, status = json.loads(out.stdout.strip().splitlines()[-1])
    assert frozen > 100_000  # the app, the models and the lists: not a handful of objects
    assert tuple(thresholds) == GC_THRESHOLDS
    assert status == 200
