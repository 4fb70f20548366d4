"""CPU per request, in process: escalation create against the bare insert, on PostgreSQL.

    .venv/bin/python bench/cpu_bench.py [--requests 300] [--repeat 3]

The HTTP benchmark (``http_bench.py``) gives the contract's figures, but on this
shared machine its requests/s drift 15-25 % between runs, more than most single
changes are worth. This one sends requests one at a time through the ASGI app
in process (``TestClient``: no sockets, no wrk, no other thread wanting the
GIL) and reports the process's CPU time per request, the median of
``--repeat`` batches: a figure steady to a few percent, for comparing code
changes. It uses the HTTP benchmark's database set-up (demo network, bench
policy, escalation pool) in a throw-away database, dropped at the end.

Only the ratio of the two figures means something for the HTTP targets (the
server adds the same framework and network cost to both), and only roughly.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("diagnosis", "estimate", "warranty")


def _profiler(scenario: str | None) -> Any:
    if scenario is None:
        return None
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit(
            "bench: --profile needs pyinstrument: .venv/bin/pip install pyinstrument"
        ) from None
    return Profiler(interval=0.0005)


def count_statements(app: Any, bare: Any, create: Any, first_create: int) -> None:
    """Send one bare insert and 20 creates (after warm-up ones) and print the statements
    per request: every statement SQLAlchemy sends to PostgreSQL, on the app's engine and
    on the limits' counter engine. Not counted (they are not statements SQLAlchemy
    executes): the pool's pre-ping on check-out and the COMMIT, one each per request."""
    from collections import Counter

    from sqlalchemy import event

    engines = {app.state.sessionmaker.kw["bind"]}
    storage = getattr(getattr(app.state.limits, "_limiter", None), "storage", None)
    limits_sessions = getattr(storage, "_sessions", None)  # None with Redis
    if limits_sessions is not None:
        engines.add(limits_sessions.kw["bind"])
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:110])

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        for label, send, start, n in (
            ("bare_insert", bare, 10_000_000, 5),
            ("create_escalation", create, first_create, 20),
        ):
            send(start)  # warm-up: the first request of a kind may read what is cached later
            seen.clear()
            for i in range(1, n + 1):
                reply = send(start + i)
                if reply.status_code != 201:
                    raise SystemExit(f"{label}: {reply.status_code} {reply.text}")
            kinds = Counter(seen)
            print(f"{label}: {len(seen) / n:.1f} statements per request")
            for text, times in kinds.most_common():
                print(f"  {times / n:4.1f} x {text}")
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per batch and scenario")
    parser.add_argument("--repeat", type=int, default=3, help="batches per scenario")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="direkte_cpu_bench")
    parser.add_argument(
        "--profile",
        choices=("bare_insert", "create_escalation"),
        help="print a pyinstrument call tree of that scenario's batches (pip install "
        "pyinstrument; the profiler slows the batches, so their figures are not comparable)",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="also count the SQL statements per request (a before_cursor_execute listener on "
        "the app's engines, the rate limits' counter engine included) and list them",
    )
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import sqlalchemy as sa
    from bench.http_bench import ESCALATION_REASONS, DatabaseCpu, prepare_database

    from direkte.config import normalize_database_url
    from direkte.demo.generator import DEMO_PASSWORD

    url = normalize_database_url(f"{args.server}/{args.database}")
    admin = sa.create_engine(normalize_database_url(f"{args.server}/postgres"))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{args.database}"')
    try:
        # Three cases per pool visit (one per category), every one a new open case.
        visits = -(-args.requests * args.repeat // len(CATEGORIES)) + 1
        if args.statements:  # 21 creates more, after the measured ones
            visits += -(-21 // len(CATEGORIES))
        prepared = prepare_database(url, escalation_visits=visits)
        os.environ["DIREKTE_DATABASE_URL"] = url
        from bench.bench_app import app
        from fastapi.testclient import TestClient

        with TestClient(app) as client:
            tokens: dict[str, str] = {}
            for visit in prepared["escalation_pool"]:
                email = visit["email"]
                if email not in tokens:
                    form = {"username": email, "password": DEMO_PASSWORD}
                    reply = client.post("/api/v1/auth/token", data=form)
                    tokens[email] = reply.json()["access_token"]
            creates = [
                (
                    f"/api/v1/visits/{visit['visit_id']}/escalations",
                    {
                        "category": category,
                        "subject_id": visit["subjects"][category],
                        "reason": f"Bench {n}: {ESCALATION_REASONS[category]}",
                    },
                    {"Authorization": f"Bearer {tokens[visit['email']]}"},
                )
                for category in CATEGORIES
                for n, visit in enumerate(prepared["escalation_pool"])
            ]

            def bare(i: int) -> Any:
                return client.post("/bench/insert", json={"note": f"cpu {i}"})

            def create(i: int) -> Any:
                path, body, headers = creates[i]
                return client.post(path, json=body, headers=headers)

            if args.statements:
                count_statements(app, bare, create, args.requests * args.repeat)
            database_cpu = DatabaseCpu(url)
            results: dict[str, list[float]] = {"bare_insert": [], "create_escalation": []}
            db_cpu: dict[str, list[float]] = {"bare_insert": [], "create_escalation": []}
            done = {"bare_insert": 0, "create_escalation": 0}
            profiler = _profiler(args.profile)
            for _ in range(args.repeat):
                for name, send in (("bare_insert", bare), ("create_escalation", create)):
                    if profiler and name == args.profile:
                        profiler.start()
                    started, db_started = time.process_time(), database_cpu.seconds()
                    for _ in range(args.requests):
                        reply = send(done[name])
                        done[name] += 1
                        if reply.status_code != 201:
                            raise SystemExit(f"{name}: {reply.status_code} {reply.text}")
                    spent = time.process_time() - started
                    db_spent = database_cpu.spent(db_started, database_cpu.seconds())
                    db_cpu[name].append(db_spent * 1000 / args.requests)
                    if profiler and name == args.profile:
                        profiler.stop()
                    results[name].append(spent * 1000 / args.requests)
            database_cpu.close()
            if profiler:
                print(profiler.output_text(unicode=False, color=False, show_all=False))
        bare_ms = statistics.median(results["bare_insert"])
        create_ms = statistics.median(results["create_escalation"])
        for name, values in results.items():
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(
                f"{name:<18} {statistics.median(values):6.2f} ms CPU/request  ({shown}); "
                f"PostgreSQL {statistics.median(db_cpu[name]):.2f} ms"
            )
        print(f"bare/create        {bare_ms / create_ms:6.1%}  (the HTTP target is 35 %)")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
