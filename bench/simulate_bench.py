"""Time ``direkte simulate`` on PostgreSQL: a fresh database, migrated, then the simulated
history of N visits loaded with COPY (docs/performance.md, "Simulated history").

    .venv/bin/python bench/simulate_bench.py [--visits 10000000] [--centers 200]
        [--server postgresql://postgres@127.0.0.1:5432] [--database direkte_sim] [--drop]

Keeps the database afterwards (the metrics and evaluation benchmarks read it) unless
--drop. Prints the wall time, the rows per table, the database's size and the machine's
load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from direkte.db import make_engine, upgrade_database

ROOT = Path(__file__).resolve().parent.parent
TABLES = (
    "users",
    "vehicles",
    "visits",
    "visit_status_changes",
    "diagnoses",
    "estimates",
    "escalations",
    "escalation_requests",
    "center_program_changes",
)


class _BackendCpu(threading.Thread):
    """Polls the CPU time (user + system, /proc) of the database's server processes."""

    def __init__(self, server: str, database: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(f"{server}/postgres")
        self.database = database
        self.stop = threading.Event()
        self.ticks: dict[int, int] = {}

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.wait(1.0):
                pids = conn.execute(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = :d "
                        "AND pid <> pg_backend_pid()"
                    ),
                    {"d": self.database},
                ).scalars()
                for pid in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self.ticks[pid] = int(fields[11]) + int(fields[12])
                conn.rollback()

    def seconds(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--centers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--effect", type=float, default=0.05)
    parser.add_argument("--until", default="2026-11-30")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="direkte_sim")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--no-status-history", action="store_true")
    args = parser.parse_args()
    admin = make_engine(f"{args.server}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{args.database}"')
    url = f"{args.server}/{args.database}"
    upgrade_database(url)
    load_before = os.getloadavg()
    watcher = _BackendCpu(args.server, args.database)
    watcher.start()
    started = time.perf_counter()
    command = [
        str(ROOT / ".venv" / "bin" / "direkte"),
        "simulate",
        "--centers",
        str(args.centers),
        "--visits",
        str(args.visits),
        "--effect",
        str(args.effect),
        "--seed",
        str(args.seed),
        "--until",
        args.until,
        *(["--no-status-history"] if args.no_status_history else []),
    ]
    done = subprocess.run(
        command,
        env=os.environ | {"DIREKTE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    watcher.stop.set()
    watcher.join()
    python_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        size = conn.execute(
            sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        ).scalar()
    engine.dispose()
    print(f"direkte simulate --centers {args.centers} --visits {args.visits}: {elapsed:.1f} s wall")
    print(
        f"CPU: the direkte process {python_cpu.ru_utime + python_cpu.ru_stime:.0f} s, "
        f"its PostgreSQL backend (and parallel workers) {watcher.seconds():.0f} s "
        "(from /proc: the server is on this machine)"
    )
    print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"database size {size}; summary {json.dumps(summary)}")
    print("| table | rows |\n|---|---|")
    for table, count in counts.items():
        print(f"| {table} | {count:,} |")
    if args.drop:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{args.database}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
