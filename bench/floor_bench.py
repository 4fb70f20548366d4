"""Where the bare insert's CPU goes: the stack's floor, layer by layer, in one run.

    .venv/bin/python bench/floor_bench.py [--rounds 2] [--duration 8]

Serves, on the chosen stack (uvicorn, uvloop, httptools, one worker) and the
benchmark's PostgreSQL database, POST endpoints that each add one layer to the one
before: a plain ASGI app (the server alone); ``/floor/ping``, FastAPI with
direkte's middleware reading and validating the body (``async def``);
``/floor/sync-ping``, the same in the thread pool (``def``, as every direkte route
that uses the database); and ``/bench/insert``, the bare insert (the same plus a
session, one ORM INSERT and its COMMIT); then the same row by async psycopg (no
SQLAlchemy, no thread) and by blocking psycopg on the event loop (one request at a
time, as Django's sync workers), and the bare insert's own ORM code in a greenlet on
the event loop (SQLAlchemy's async engine), to price those request models. It prints, per
endpoint, requests/s, p50/p99 and the server's CPU per request (the median of the
rounds, which interleave the endpoints), so that the difference between two lines is
the cost of the layer between them. See docs/performance.md, "The stack's floor".
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench import http_bench as hb  # noqa: E402

STACK = "uvicorn-uvloop-httptools"  # what direkte serve runs
LAYERS = (
    ("server: plain ASGI", "bench.floor_app:raw", "/raw"),
    ("FastAPI + middleware, async", "bench.floor_app:app", "/floor/ping"),
    ("the same in the thread pool", "bench.floor_app:app", "/floor/sync-ping"),
    ("bare insert (session, INSERT, COMMIT)", "bench.floor_app:app", "/bench/insert"),
    ("insert, async psycopg, no thread", "bench.floor_app:app", "/floor/async-insert"),
    ("bare insert's ORM in a greenlet", "bench.floor_app:app", "/floor/greenlet-insert"),
    ("insert, blocking psycopg on the loop", "bench.floor_app:app", "/floor/blocking-insert"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8797)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="direkte_floor")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing: apt-get install wrk (or ./dev bench installs it)")
    hb.create_database(args.server, args.database)
    db_url = f"{args.server}/{args.database}"
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in LAYERS}
    try:
        hb.prepare_database(db_url)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "post.lua"
            script.write_text(hb.lua_bare_insert())
            for round_no in range(1, args.rounds + 1):
                for label, app, path in LAYERS:
                    proc = hb.start_server(
                        db_url, 1, args.port, Path(tmp) / "server.log", STACK, app
                    )
                    url = f"http://127.0.0.1:{args.port}{path}"
                    try:
                        common = {"connections": args.connections, "threads": 2}
                        hb.run_wrk(script, url, seconds=2, tag="floorw", **common)
                        cpu_before, sys_before = hb.server_cpu_seconds(proc.pid)
                        result = hb.run_wrk(
                            script, url, seconds=args.duration, tag="floor", **common
                        )
                        cpu_after, sys_after = hb.server_cpu_seconds(proc.pid)
                    finally:
                        hb.stop_server(proc)
                    errors = hb._errors(result) + int(result.get("status_errors", 0))
                    if result["non2xx"] or errors or result["requests"] == 0:
                        raise SystemExit(
                            f"bench: {label} answered {result['non2xx']} non-2xx and had "
                            f"{errors} socket errors: no figure printed"
                        )
                    row = {
                        "rps": result["rps"],
                        "p50": result["p50_us"] / 1000,
                        "p99": result["p99_us"] / 1000,
                        "cpu": (cpu_after - cpu_before) * 1000 / result["requests"],
                        "sys": (sys_after - sys_before) * 1000 / result["requests"],
                    }
                    results[label].append(row)
                    print(
                        f"  round {round_no}  {label:<40} {row['rps']:8.0f} req/s  "
                        f"p50 {row['p50']:6.2f} ms  p99 {row['p99']:6.2f} ms  "
                        f"cpu {row['cpu']:.3f} ms/req (sys {row['sys']:.3f})",
                        flush=True,
                    )
                    time.sleep(1)
    finally:
        hb.drop_database(args.server, args.database)
    print(f"\n{'layer':<40} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms/req':>10} {'sys':>6}")
    for label, rows in results.items():
        med = {
            k: statistics.median(r[k] for r in rows) for k in ("rps", "p50", "p99", "cpu", "sys")
        }
        print(
            f"{label:<40} {med['rps']:8.0f} {med['p50']:7.2f} {med['p99']:7.2f} "
            f"{med['cpu']:10.3f} {med['sys']:6.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
