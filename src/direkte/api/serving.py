"""How uvicorn serves the app: its HTTP protocol, with ``TCP_NODELAY`` on every connection.

With ``--workers N`` (N > 1) uvicorn binds the listening socket itself with
``socket.socket(family)``, whose ``proto`` is 0; the sockets it accepts inherit
that, and asyncio sets ``TCP_NODELAY`` only on sockets that report
``IPPROTO_TCP``. Nagle's algorithm then stays on: a response goes out as two
writes (head, then body), the body waits for the client's delayed ACK, and every
keep-alive request after the first costs about 40 ms on Linux. Measured with the
bench's bare endpoints: 2 workers answered 300-320 req/s at a fixed p50 of
48 ms, against 500-600 req/s with one worker (docs/performance.md; uvicorn issue
Kludex/uvicorn#3149, open). One worker is not affected (asyncio builds that
listener from ``getaddrinfo``, with ``proto`` 6); setting the option anyway costs
one system call per connection.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

# For ``uvicorn.run(http=...)`` and ``uvicorn --http ...``.
HTTP_PROTOCOL = "direkte.api.serving:NoDelayH11Protocol"


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that turns Nagle's algorithm off on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
