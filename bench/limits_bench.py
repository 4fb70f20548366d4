"""The limits' cost per request: integration PUT with the per-caller rate on and off.

    .venv/bin/python bench/limits_bench.py [--requests 300] [--repeat 5]

In process, one request at a time through the ASGI app (``TestClient``, each entered
once, so that each app keeps one event loop as in a server), on
PostgreSQL, like ``cpu_bench.py``: three apps over one throw-away database, the
same except for the limits: ``off`` (``DIREKTE_RATE_LIMIT=off``), ``database``
(the default: one upsert per request on the counter pool) and ``redis``
(``DIREKTE_REDIS_URL``, Redis on 127.0.0.1:6379). Each batch sends ``--requests``
PUTs of existing visits (the http_bench update pool) through each app in turn;
the figures are the median over ``--repeat`` batches of wall time and process
CPU time per request. The overhead of a mode is its PUT time over ``off``'s: the
bare endpoints of the HTTP benchmark are not rate-limited, so this is how much
the ``put_vs_bare_insert`` ratio moves (the target allows 10 %).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="direkte_limits_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import sqlalchemy as sa
    from bench.http_bench import prepare_database
    from fastapi.testclient import TestClient

    from direkte.api.app import create_app
    from direkte.config import Settings, normalize_database_url

    url = normalize_database_url(f"{args.server}/{args.database}")
    admin = sa.create_engine(normalize_database_url(f"{args.server}/postgres"))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{args.database}"')
    stack = contextlib.ExitStack()
    try:
        prepared = prepare_database(url)
        base: dict[str, Any] = {
            "database_url": url,
            "secret_key": "bench-secret-0123456789-abcdefghijklmnopqrs",
            "log_level": "warning",
            "rate_limit": "1000000/minute",  # counted, never refused
        }
        modes = {
            "off": Settings(**(base | {"rate_limit": "off"})),
            "database": Settings(**base),
            "redis": Settings(
                **(base | {"redis_url": args.redis, "redis_prefix": uuid.uuid4().hex})
            ),
        }
        # Each client entered once: one event loop per app for the whole run, as in a
        # server. A client used without entering it runs every request on a new loop,
        # which makes the Redis mode's asyncio pool (one per loop) connect anew each time.
        clients = {
            name: stack.enter_context(TestClient(create_app(s))) for name, s in modes.items()
        }
        headers = {"X-API-Key": prepared["api_key"]}
        pool = prepared["update_pool"]
        wall: dict[str, list[float]] = {name: [] for name in modes}
        cpu: dict[str, list[float]] = {name: [] for name in modes}
        sent = 0
        for client in clients.values():  # warm-up
            for item in pool[:20]:
                client.put(
                    f"/api/v1/integration/visits/{item['external_id']}",
                    json=item["body"],
                    headers=headers,
                )
        names = list(clients)
        for batch in range(args.repeat):
            # A different mode first in each batch: no mode always follows the same one.
            for name in names[batch % len(names) :] + names[: batch % len(names)]:
                client = clients[name]
                started, started_cpu = time.perf_counter(), time.process_time()
                for _ in range(args.requests):
                    item = pool[sent % len(pool)]
                    sent += 1
                    reply = client.put(
                        f"/api/v1/integration/visits/{item['external_id']}",
                        json=item["body"],
                        headers=headers,
                    )
                    if reply.status_code != 200:
                        raise SystemExit(f"{name}: {reply.status_code} {reply.text}")
                wall[name].append((time.perf_counter() - started) * 1000 / args.requests)
                cpu[name].append((time.process_time() - started_cpu) * 1000 / args.requests)
        off_wall, off_cpu = statistics.median(wall["off"]), statistics.median(cpu["off"])
        for name in modes:
            w, c = statistics.median(wall[name]), statistics.median(cpu[name])
            print(
                f"{name:<9} {w:6.2f} ms wall/request ({w / off_wall - 1:+6.1%})   "
                f"{c:6.2f} ms CPU/request ({c / off_cpu - 1:+6.1%})"
            )
    finally:
        stack.close()  # the apps' shutdown: their pools closed before the drop
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
