"""Time `GET /api/v1/metrics`'s use case over a quarter on a simulated network (PostgreSQL),
and the evaluation's (`GET /api/v1/rollout/evaluation`: the panel from the roll-ups and
did.evaluate) over two years (docs/performance.md, "Figures at 10,000,000 visits").

    DIREKTE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/direkte_sim \\
        .venv/bin/python bench/metrics_bench.py [--from 2026-08-31] [--to 2026-11-29]
        [--runs 5] [--evaluation-from 2024-12-02] [--evaluation-to 2026-11-29]

After `direkte simulate` and `direkte figures rebuild --from --to` over both windows.
Prints, per read, the p50 and the slowest of --runs runs in wall time, and the CPU time
per run of this process and of its PostgreSQL backend (read from /proc: the server
must run on this machine; parallel workers' CPU is not counted), with the load
average. Exit 1 when a p50 misses its target (1 s for the figures, 5 s for the
evaluation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.analytics.service import evaluate_program, read_metrics
from direkte.clock import SystemClock
from direkte.db import make_engine, make_sessionmaker


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    factory: Any, runs: int, read: Callable[[Session], Any]
) -> tuple[list[float], list[float], list[float], Any]:
    walls, mine, server = [], [], []
    result = None
    for _ in range(runs):
        with factory() as session:
            pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            session.rollback()
            cpu0, srv0, start = time.process_time(), _backend_cpu(pid), time.perf_counter()
            result = read(session)
            walls.append(time.perf_counter() - start)
            mine.append(time.process_time() - cpu0)
            server.append(_backend_cpu(pid) - srv0)
    return walls, mine, server, result


def _line(label: str, walls: list[float], mine: list[float], server: list[float]) -> str:
    return (
        f"{label:<26} p50 {statistics.median(walls) * 1000:7.0f} ms, slowest "
        f"{max(walls) * 1000:6.0f} ms; CPU per run: this process "
        f"{statistics.median(mine) * 1000:5.0f} ms, "
        f"PostgreSQL {statistics.median(server) * 1000:5.0f} ms"
        f" (load {os.getloadavg()[0]:.1f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="first", default="2026-08-31")
    parser.add_argument("--to", dest="last", default="2026-11-29")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--evaluation-from", default="2024-12-02")
    parser.add_argument("--evaluation-to", default="2026-11-29")
    parser.add_argument("--no-evaluation", action="store_true")
    args = parser.parse_args()
    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    engine = make_engine(os.environ["DIREKTE_DATABASE_URL"])
    factory = make_sessionmaker(engine)
    clock = SystemClock()
    missed = False
    print(f"figures {first} to {last}, {args.runs} runs each; load {os.getloadavg()}")
    for group_by in (None, "center", "region", "week"):
        walls, mine, server, result = _measure(
            factory,
            args.runs,
            lambda s, g=group_by: read_metrics(
                s, clock, None, date_from=first, date_to=last, group_by=g
            ),
        )
        missed |= statistics.median(walls) >= 1
        label = f"group_by={group_by or '-'} ({len(result['groups'])} groups)"
        print(_line(label, walls, mine, server))
    print(f"visits checked in: {result['visits_checked_in']:,}")
    if not args.no_evaluation:
        e0, e1 = date.fromisoformat(args.evaluation_from), date.fromisoformat(args.evaluation_to)
        walls, mine, server, result = _measure(
            factory,
            args.runs,
            lambda s: evaluate_program(
                s, clock, None, figure="same_day_resolution", date_from=e0, date_to=e1
            ),
        )
        missed |= statistics.median(walls) >= 5
        print(_line(f"evaluation {e0}..{e1}", walls, mine, server))
        print(
            f"  estimate {result['estimate']}, ci {result['ci']}, "
            f"{result['treated_centers']} treated / {result['control_centers']} control centers, "
            f"{result['weeks']} weeks: {result['recommendation']}"
        )
    engine.dispose()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
