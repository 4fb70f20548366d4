"""Backtest benchmark on PostgreSQL (issue 5): 100,000 recorded requests in under 10 s.

Builds a throwaway database, loads the demo (seed 1, 300 visits), adds a year of
recorded requests with the history generator, then times the backtest of the
current (built-in default) policy against a stricter candidate.

    .venv/bin/python bench/backtest_bench.py
    .venv/bin/python bench/backtest_bench.py --requests 200000 --keep
    .venv/bin/python bench/backtest_bench.py --reuse direkte_bench_1a2b3c4d   # a kept one
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from direkte.analytics.backtest import backtest_policy, report_lines
from direkte.clock import FixedClock
from direkte.db import make_engine, make_sessionmaker, upgrade_database
from direkte.demo.generator import load_demo
from direkte.demo.history import load_history
from direkte.guardrails.policy import default_document

BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def stricter() -> dict[str, Any]:
    """The default policy with higher materiality bars."""
    document = default_document()
    materiality = document["global"]["materiality"]
    materiality["estimate"]["min_increase"] = {"NOK": "4000", "SEK": "4000", "DKK": "3000"} | {
        "EUR": "400",
        "ISK": "60000",
    }
    materiality["estimate"]["min_increase_percent"] = "25"
    materiality["warranty"]["min_denied"] = {"NOK": "8000", "SEK": "8000", "DKK": "5500"} | {
        "EUR": "800",
        "ISK": "120000",
    }
    materiality["warranty"]["within_coverage"] = False
    materiality["diagnosis"]["repeat_visit_days"] = 14
    return document


def _fill(factory: sessionmaker[Session], requests: int) -> None:
    """The demo network and ``requests`` recorded requests over the last year."""
    started = time.perf_counter()
    with factory() as session:
        load_demo(session, seed=1, visits=300, clock=FixedClock(NOW))
        session.commit()
    print(f"demo loaded in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with factory() as session:
        made = load_history(session, requests=requests, now=NOW, seed=1)
        session.commit()
    seconds = time.perf_counter() - started
    print(f"history: {made} in {seconds:.1f} s ({made['requests'] / seconds:,.0f} requests/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="time the backtest on a kept database (implies --keep)"
    )
    args = parser.parse_args()
    name = args.reuse or f"direkte_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(BASE, isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = BASE.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        if not args.reuse:
            _fill(factory, args.requests)
        with factory() as session:
            started = time.perf_counter()
            report = backtest_policy(
                session,
                document=stricter(),
                date_from=NOW - timedelta(days=400),
                date_to=NOW + timedelta(days=1),
            )
            seconds = time.perf_counter() - started
        for line in report_lines(report):
            print(line)
        print(
            f"backtest: {report.requests:,} requests, two policies, in {seconds:.2f} s "
            f"({report.requests / seconds:,.0f} rows/s); target < 10 s: "
            f"{'met' if seconds < 10 else 'MISSED'}"
        )
        engine.dispose()
    finally:
        if args.keep or args.reuse:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
