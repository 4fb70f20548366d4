"""uvicorn's connections get TCP_NODELAY, also where uvicorn's own listener loses it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from direkte.api.serving import HTTP_PROTOCOL, NoDelayH11Protocol


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


def test_the_protocol_turns_nagle_off() -> None:
    config = Config(app=_app, http=HTTP_PROTOCOL, log_level="warning")
    config.load()
    assert config.http_protocol_class is NoDelayH11Protocol
    loop = asyncio.new_event_loop()
    try:
        with _accepted_socket() as sock:
            protocol = NoDelayH11Protocol(config, ServerState(), {}, _loop=loop)
            protocol.connection_made(_Transport(sock))
            assert _nodelay(sock) == 1
            protocol.connections.discard(protocol)
            if protocol.timeout_keep_alive_task is not None:
                protocol.timeout_keep_alive_task.cancel()
    finally:
        loop.close()
