"""The layers under the bare insert, each as an endpoint, for ``bench/floor_bench.py`` only.

``raw`` is a plain ASGI app (no framework): the server's own cost of a request.
``app`` is the benchmark app (``bench.bench_app``: direkte's app, its middleware and
the bare endpoints) with two more POST endpoints that read and validate the same
body as ``/bench/insert`` and touch no database: ``/floor/ping`` (``async def``, on
the event loop) and ``/floor/sync-ping`` (``def``, in the thread pool, as every
direkte route that uses the database).
"""

from __future__ import annotations

from bench.bench_app import RowIn, app
from starlette.types import Receive, Scope, Send

from direkte.api.routing import fence_routes


@app.post("/floor/ping", status_code=201)
async def floor_ping(body: RowIn) -> dict[str, str]:
    return {"note": body.note}


@app.post("/floor/sync-ping", status_code=201)
def floor_sync_ping(body: RowIn) -> dict[str, str]:
    return {"note": body.note}


fence_routes(app)


async def raw(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body and answer 201 with a small JSON body; nothing else."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json")]
    status = 201 if scope["method"] == "POST" else 200  # 200: the readiness check's GET
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"note":"bench insert"}'})
