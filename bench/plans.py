"""Query plans of the guardrails' look-ups on PostgreSQL with 1,000,000 past escalations.

Builds a throwaway database with 2,000 customers, 2,000 visits and N past
cases spread over them, then prints EXPLAIN ANALYZE for the frequency,
recent-outcome, open/similar-case and load look-ups that every escalation
create runs (the same shapes as `direkte.escalations.facts`).

    .venv/bin/python bench/plans.py [--cases 1000000]
"""

from __future__ import annotations

import argparse
import uuid

import sqlalchemy as sa

from direkte.db import upgrade_database

BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

FILL = [
    """INSERT INTO regions (code, name, countries, time_zone, created_at, updated_at)
       VALUES ('R', 'R', '["NO"]', 'Europe/Oslo', now(), now())""",
    """INSERT INTO centers (code, name, region_id, country, time_zone, lat, lon, business_hours,
       closed_dates, capacity_bays, currency, program, created_at, updated_at)
       SELECT 'C', 'C', id, 'NO', 'Europe/Oslo', 59.9, 10.8, '{"mon": ["08:00-16:00"]}', '[]',
       4, 'NOK', 'on', now(), now() FROM regions""",
    """INSERT INTO users (email, password_hash, role, name, language, languages, on_duty, active,
       created_at, updated_at)
       SELECT 'c' || g || '@plans.example.com', 'x', 'customer', 'C', 'en', '[]', false, true,
       now(), now() FROM generate_series(1, 2000) g""",
    """INSERT INTO users (email, password_hash, role, name, language, languages, on_duty, active,
       center_id, created_at, updated_at)
       SELECT 'm' || g || '@plans.example.com', 'x', 'local_manager', 'M', 'en', '[]', true, true,
       (SELECT id FROM centers), now(), now() FROM generate_series(1, 20) g""",
    """INSERT INTO vehicles (vin, model, model_year, odometer_km, created_at, updated_at)
       SELECT lpad(g::text, 17, 'A'), 'X', 2022, 1000, now(), now()
       FROM generate_series(1, 2000) g""",
    """INSERT INTO visits (external_id, center_id, customer_id, vehicle_id, concern, status,
       currency, checked_in_at, drivable, created_at, updated_at)
       SELECT 'P-' || u.rn, (SELECT id FROM centers), u.id, v.id, 'x', 'closed', 'NOK', now(),
       true, now(), now()
       FROM (SELECT id, row_number() OVER (ORDER BY id) rn FROM users WHERE role = 'customer') u
       JOIN (SELECT id, row_number() OVER (ORDER BY id) rn FROM vehicles) v ON v.rn = u.rn""",
    """INSERT INTO escalations (visit_id, customer_id, center_id, category, subject_id, reason,
       status, tier, assignee_id, guardrail, version, created_at, updated_at, resolved_at,
       outcome, currency)
       SELECT v.id, v.customer_id, v.center_id,
       (ARRAY['diagnosis','estimate','warranty'])[1 + g % 3], 1, 'r',
       CASE WHEN g % 50 = 0 THEN 'open' ELSE 'closed' END, 1,
       (SELECT min(id) FROM users WHERE role = 'local_manager') + g % 20, '{}', 1,
       now() - (g % 700 || ' days')::interval, now(),
       CASE WHEN g % 50 = 0 THEN NULL ELSE now() - (g % 700 || ' days')::interval END,
       CASE WHEN g % 50 = 0 THEN NULL ELSE (ARRAY['upheld','revised','goodwill'])[1 + g % 3] END,
       'NOK'
       FROM generate_series(1, :n) g JOIN visits v ON v.external_id = 'P-' || (1 + g % 2000)""",
    "ANALYZE",
]

LOOKUPS = {
    "frequency: cases in 365 days": """
        SELECT count(id) FROM escalations
        WHERE customer_id = :customer AND created_at > now() - interval '365 days'""",
    "frequency: recent outcomes": """
        SELECT outcome, resolved_at FROM escalations
        WHERE customer_id = :customer AND resolved_at IS NOT NULL
        ORDER BY resolved_at DESC LIMIT 5""",
    "duplicate: open cases of the customer on the visit": """
        SELECT * FROM escalations
        WHERE visit_id = :visit AND customer_id = :customer
          AND status IN ('held', 'open', 'acknowledged', 'awaiting_customer') ORDER BY id""",
    "capacity: open cases per manager": """
        SELECT assignee_id, count(id) FROM escalations
        WHERE assignee_id IN (:m1, :m2, :m3)
          AND status IN ('open', 'acknowledged', 'awaiting_customer')
        GROUP BY assignee_id""",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    admin = sa.create_engine(BASE, isolation_level="AUTOCOMMIT")
    name = f"direkte_plans_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade_database(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for statement in FILL:
                conn.execute(sa.text(statement), {"n": args.cases})
        with engine.connect() as conn:
            visit, customer = conn.execute(
                sa.text("SELECT id, customer_id FROM visits ORDER BY id LIMIT 1")
            ).one()
            managers = (
                conn.execute(
                    sa.text("SELECT id FROM users WHERE role = 'local_manager' ORDER BY id LIMIT 3")
                )
                .scalars()
                .all()
            )
            params = {
                "visit": visit,
                "customer": customer,
                "m1": managers[0],
                "m2": managers[1],
                "m3": managers[2],
            }
            print(f"{args.cases:,} past escalations over 2,000 customers\n")
            for title, sql in LOOKUPS.items():
                plan = conn.execute(sa.text("EXPLAIN ANALYZE " + sql), params).scalars().all()
                print(f"-- {title}\n" + "\n".join(plan) + "\n")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
