"""SLA sweep benchmark on PostgreSQL (issue 4): cost follows the breached cases, not the open.

Builds a throwaway database, fills it with N open tier-1 cases of which B are
past their due time (bulk SQL, one real visit behind them all), then times one
full sweep (`direkte.jobs.sweeps.sla_sweep`) that moves every breached case to
tier 2 with its timeline, audit and outbox rows.

    .venv/bin/python bench/sweep_bench.py                   # 100k/1k and 1M/100
    .venv/bin/python bench/sweep_bench.py --open 100000 --breached 1000
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from one_center import network, throwaway_database

from direkte.audit.service import Actor
from direkte.auth.service import create_api_key
from direkte.clock import FixedClock
from direkte.db import make_engine, make_sessionmaker
from direkte.jobs.sweeps import sla_sweep
from direkte.network.service import load_network

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def _fill(url: str, open_cases: int, breached: int) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    clock = FixedClock(NOW - timedelta(days=3))
    with factory() as session:
        load_network(
            session, clock, raw=network(regional_manager=True), actor=Actor.system("bench")
        )
        create_api_key(session, clock, name="bench")
        session.commit()
    with engine.begin() as conn:
        center, customer = conn.execute(
            sa.text("SELECT c.id, u.id FROM centers c, users u WHERE u.role = 'customer'")
        ).one()
        vehicle = conn.execute(
            sa.text(
                "INSERT INTO vehicles (vin, model, model_year, odometer_km, created_at, updated_at)"
                " VALUES ('YV1XZ12345A000001', 'X', 2022, 1000, now(), now()) RETURNING id"
            )
        ).scalar()
        visit = conn.execute(
            sa.text(
                "INSERT INTO visits (external_id, center_id, customer_id, vehicle_id, concern,"
                " status, currency, checked_in_at, drivable, created_at, updated_at)"
                " VALUES ('B-1', :c, :u, :v, 'x', 'in_repair', 'NOK', now(), true, now(), now())"
                " RETURNING id"
            ),
            {"c": center, "u": customer, "v": vehicle},
        ).scalar()
        # Due times: the first `breached` are past NOW, the rest later (still open).
        conn.execute(
            sa.text("""
            INSERT INTO escalations (visit_id, customer_id, center_id, category, subject_id,
                reason, status, tier, guardrail, version, created_at, updated_at,
                first_response_due, resolution_due, sla_next_due, currency)
            SELECT :visit, :customer, :center, 'diagnosis', 1, 'bench', 'open', 1,
                '{"decision": "route", "tier": 1, "policy_version": "builtin-1", "rules": [],
                  "explanation": ""}', 1, :now - interval '1 day', :now - interval '1 day',
                due, due, due, 'NOK'
            FROM (SELECT CASE WHEN g <= :breached
                              THEN :now - (g || ' seconds')::interval
                              ELSE :now + (g || ' seconds')::interval END AS due
                  FROM generate_series(1, :n) AS g) s
        """),
            {
                "visit": visit,
                "customer": customer,
                "center": center,
                "now": NOW,
                "breached": breached,
                "n": open_cases,
            },
        )
        conn.execute(sa.text("ANALYZE escalations"))
    engine.dispose()


def run(open_cases: int, breached: int) -> dict[str, object]:
    with throwaway_database("direkte_sweep") as url:
        started = time.perf_counter()
        _fill(url, open_cases, breached)
        fill_s = time.perf_counter() - started
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with engine.connect() as conn:
            plan = "\n".join(
                conn.exec_driver_sql(
                    "EXPLAIN SELECT * FROM escalations WHERE tier = 1 AND sla_next_due <= "
                    f"'{NOW.isoformat()}' AND status IN "
                    "('open','acknowledged','awaiting_customer') "
                    "ORDER BY sla_next_due, id LIMIT 200 FOR UPDATE SKIP LOCKED"
                ).scalars()
            )
        started = time.perf_counter()
        moved = sla_sweep(factory, now=NOW)
        sweep_s = time.perf_counter() - started
        started = time.perf_counter()
        again = sla_sweep(factory, now=NOW)
        empty_s = time.perf_counter() - started
        engine.dispose()
    assert moved == breached, (moved, breached)
    assert again == 0
    return {
        "open": open_cases,
        "breached": breached,
        "fill_s": round(fill_s, 1),
        "sweep_s": round(sweep_s, 3),
        "per_case_ms": round(1000 * sweep_s / max(moved, 1), 2),
        "empty_sweep_s": round(empty_s, 4),
        "plan": plan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--open", type=int, default=None)
    parser.add_argument("--breached", type=int, default=None)
    args = parser.parse_args()
    cases = (
        [(args.open, args.breached)]
        if args.open
        else [(100_000, 1_000), (1_000_000, 100), (1_000_000, 1_000)]
    )
    results = []
    for open_cases, breached in cases:
        result = run(open_cases, breached)
        results.append(result)
        print(
            f"open={open_cases:>9,} breached={breached:>5,}  sweep {result['sweep_s']:.3f} s"
            f"  ({result['per_case_ms']} ms/case)  empty re-sweep {result['empty_sweep_s']} s"
            f"  [fill {result['fill_s']} s]"
        )
    print("\nplan of the sweep's claim query:\n" + str(results[-1]["plan"]))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
