"""How uvicorn serves the app: uvloop, httptools, and ``TCP_NODELAY`` on every connection.

The stack was chosen by measurement (docs/performance.md, "The server stack"):
uvicorn with uvloop's event loop and the httptools parser, against uvicorn on
plain asyncio with h11 and against granian, with 1 and 2 workers in one run.

``TCP_NODELAY``: with ``--workers N`` (N > 1) uvicorn binds the listening
socket itself with ``socket.socket(family)``, whose ``proto`` is 0; the sockets
it accepts inherit that, and asyncio sets ``TCP_NODELAY`` only on sockets that
report ``IPPROTO_TCP``. Nagle's algorithm then stays on: a response goes out as
two writes (head, then body), the body waits for the client's delayed ACK, and
every keep-alive request after the first costs about 40 ms on Linux (2 workers
answered 300-320 req/s at a fixed p50 of 48 ms, against 500-600 with one;
uvicorn issue Kludex/uvicorn#3149). One worker is not affected (asyncio builds
that listener from ``getaddrinfo``, with ``proto`` 6); setting the option anyway
costs one system call per connection. uvloop sets it on every TCP connection
itself, so on uvloop the protocols' own setting is redundant; it is kept for
where uvicorn's "auto" loop falls back to asyncio (no uvloop: Windows, or a
build without it). Both protocols below set it, whatever the event loop does.
"""

from __future__ import annotations

import asyncio
import gc
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# For ``uvicorn.run(http=..., loop=...)`` and ``uvicorn --http ... --loop ...``.
HTTP_PROTOCOL = "direkte.api.serving:NoDelayHttpToolsProtocol"
# uvicorn's "auto" is uvloop where it is installed (a dependency everywhere but Windows).
EVENT_LOOP = "auto"
# The pure-Python stack (h11 on asyncio), for comparison in the benchmark.
H11_PROTOCOL = "direkte.api.serving:NoDelayH11Protocol"
# With --workers N uvicorn's supervisor pings every worker and kills one that does
# not answer within this many seconds (uvicorn's default: 5). A starting worker
# loads the language models (guardrails.content_facts.warm_up) while holding the
# GIL, so its answering thread cannot run: on the shared 2-core benchmark machine
# (load 12-16) that took longer than 5 s, and the supervisor killed and restarted
# the worker again and again (2-worker servers that never answered within 3
# minutes, 2026-12-05). A hung worker is still replaced, after a minute.
WORKER_HEALTHCHECK_SECONDS = 60
# The cyclic garbage collector's thresholds in a serving process (Python's: 700, 10,
# 10). A request frees nearly everything it allocates by reference counting, so the
# count of the youngest generation (allocations less deallocations) grows slowly and
# 10,000 is reached a few times a minute under load instead of several times a second
# (docs/performance.md, "Three cuts in the create").
GC_THRESHOLDS = (10_000, 10, 10)


def settle_heap() -> None:
    """Once the app is built and its models are loaded (the last step of a worker's
    start): collect once, then move every object alive into the collector's permanent
    generation (``gc.freeze``), so that no collection walks them again, and raise the
    youngest generation's threshold. Without it, each full collection walked the
    start-up's 250,000 objects (the app, lingua's models, the phrase lists' regexes,
    SQLAlchemy's metadata) for 0.1-0.15 s inside some request: p99 of the bare insert
    117-142 ms against 25-49 ms with it; 1.3-2.5 s of collections in a benchmark run
    against 0.15 s, the resident memory the same."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that turns Nagle's algorithm off on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that turns Nagle's algorithm off on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)
