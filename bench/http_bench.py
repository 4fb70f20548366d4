"""HTTP benchmark: integration PUT, escalation create and customer GET vs bare endpoints.

Run from the project root (PostgreSQL on 127.0.0.1:5432, trust auth, wrk installed):

    .venv/bin/python bench/http_bench.py

It creates a throw-away database (``direkte_bench``), migrates it, loads the demo
network (seed 1, 300 visits), publishes the bench guardrail policy (the default
with only ``frequency.max_per_365_days`` and the capacity caps raised to the highest
values allowed, every rule still on), creates an API key, the bench-only table
``bench_rows`` and the escalation pool (checked-in visits at program centers owned by
every active demo customer, each with a safety-related diagnosis, an estimate and a
safety-related warranty decision, so every case is material: tier 1), then for each
worker count
starts ``uvicorn bench.bench_app:app --workers N`` on 127.0.0.1 and drives five
scenarios with wrk: ``--rounds`` (default 3) rounds, each running every scenario
once (after a warm-up in the first round), so that the two sides of a ratio are
measured minutes apart at most; each ratio is the median of its rounds' ratios and
each scenario is reported by its median round (this machine drifts 15-25 % from
run to run):

* ``bare_insert``        POST /bench/insert                       one INSERT of one row
* ``put_visit``          PUT  /api/v1/integration/visits/{ext_id} half creates, half updates
* ``create_escalation``  POST /api/v1/visits/{id}/escalations     every request a new case
* ``bare_select``        GET  /bench/select/{id}                  one primary-key SELECT
* ``get_visit``          GET  /api/v1/visits/{id}                 a customer reads their visit

Creates are not repeatable (a second request for a visit and category is folded
into the open case, 200), so every wrk run of ``create_escalation`` gets its own
unused (visit, category, subject) triples, split into disjoint slices per wrk
thread; a run that would need more fails its requests visibly (``exhausted``).
The three reasons of a visit differ (no near-duplicate folding), and a 201 whose case
is ``held`` by moderation is counted (``held``); every create must be an open case.

It prints requests/s, p50, p99 and non-2xx per scenario and worker count, the
ratios PUT/bare-insert, escalation-create/bare-insert and GET/bare-select against
the targets, and writes the
whole result as JSON to bench/results/ (gitignored). The database is dropped at
the end unless --keep-db is given. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

PUT_TARGET = 0.40  # PUT visit >= 40 % of bare-insert throughput
GET_TARGET = 0.35  # GET visit >= 35 % of bare-select throughput
ESCALATION_TARGET = 0.30  # escalation create >= 30 % of bare-insert throughput
SELECT_ROWS = 10_000
UPDATE_POOL = 400  # existing visits the PUT scenario updates
CREATE_VEHICLES = 400  # known vehicles the PUT scenario opens new visits for
GET_CUSTOMERS = 8
# The bench policy: every guardrail rule stays on, only the limits a load test
# would hit are raised to the highest values the policy document accepts
# (frequency.max_per_365_days <= 1,000; capacity caps <= 10,000). The pool is
# spread over enough customers that none reaches the frequency limit (checked).
BENCH_MAX_PER_365_DAYS = 1_000
BENCH_OPEN_CAP = 10_000
BENCH_POLICY_NOTE = "bench: frequency and capacity limits raised; every other rule as default"
# The pool is sized for this rate over every warm-up and measured run (the highest
# rate seen is about 130/s, 2 workers), so that no run uses up its triples; a run
# that would is counted (``exhausted``). Higher, three rounds of two worker counts
# would give a pool customer more cases than the bench policy's frequency limit.
ESCALATION_POOL_RPS = 200
CATEGORIES = ("diagnosis", "estimate", "warranty")  # one subject of each per pool visit
# The reason per category, followed by a per-request tag. The three texts of a visit
# are far apart (similarity about 0.4-0.5, the near-duplicate bar is 0.85), so a
# visit's second and third case never fold into its first; none is a threat or abuse.
ESCALATION_REASONS = {
    "diagnosis": "the diagnosis blames worn rear bushings, but the clunk started right "
    "after the alignment you did last month.",
    "estimate": "the estimate is far higher than the price I was quoted at drop-off; "
    "please check the labour hours.",
    "warranty": "warranty should cover this part, the car is still within its coverage "
    "and the fault affects safety.",
}
SCENARIOS = (
    "bare_insert",
    "put_visit",
    "create_escalation",
    "bare_select",
    "get_visit",
    "create_escalation_past",
)
# create_escalation again, after the database was given this many past escalations.
PAST_ESCALATIONS = 1_000_000
PAST_TARGET = 0.80  # at most 25 % slower: throughput >= 1 / 1.25 of create_escalation
WARMUP_KEYS = ("requests", "rps", "non2xx", "unexpected_2xx", "exhausted", "held")
# (key, scenario, baseline, target)
RATIOS = (
    ("put_vs_bare_insert", "put_visit", "bare_insert", PUT_TARGET),
    ("escalation_vs_bare_insert", "create_escalation", "bare_insert", ESCALATION_TARGET),
    ("get_vs_bare_select", "get_visit", "bare_select", GET_TARGET),
    ("escalation_past_vs_escalation", "create_escalation_past", "create_escalation", PAST_TARGET),
)
ESCALATION_SCENARIOS = ("create_escalation", "create_escalation_past")

BENCH_ROWS_DDL = """
CREATE TABLE bench_rows (
    id BIGSERIAL PRIMARY KEY,
    note VARCHAR(100) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
)
"""


# ---- database ----------------------------------------------------------------------


def _admin_execute(server_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def create_database(server_url: str, name: str) -> None:
    _admin_execute(
        server_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
    )


def drop_database(server_url: str, name: str) -> None:
    _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _vin(seed: int) -> str:
    from direkte.fields import vin_check_digit

    draft = f"5YJ3E1EA0KF{seed:06d}"[:17]
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def _visit_body(center: str, email: str, vin: str, concern: str) -> dict[str, Any]:
    return {
        "center": center,
        "customer_email": email,
        "vehicle": {
            "vin": vin,
            "model": "Model 3",
            "model_year": 2021,
            "odometer_km": 42000,
            "delivery_date": "2021-03-01",
        },
        "concern": concern,
        "status": "checked_in",
        "booked_at": "2026-11-10T12:00:00+01:00",
        "appointment_date": "2026-11-18",
        "checked_in_at": "2026-11-18T08:05:00+01:00",
        "drivable": True,
    }


def escalation_pool_visits(seconds: int, threads: int) -> int:
    """Pool visits one wrk run of ``seconds`` gets: three triples each, whole per thread."""
    visits = -(-ESCALATION_POOL_RPS * seconds // len(CATEGORIES))
    return -(-visits // threads) * threads


def bench_policy_document() -> dict[str, Any]:
    """The default policy document with only the frequency limit and capacity caps raised."""
    from direkte.guardrails.policy import default_document

    document = default_document()
    body = document["global"]
    body["frequency"]["max_per_365_days"] = BENCH_MAX_PER_365_DAYS
    body["capacity"] = {
        "local_manager_open_cap": BENCH_OPEN_CAP,
        "regional_manager_open_cap": BENCH_OPEN_CAP,
    }
    return document


def publish_bench_policy(session: Any, clock: Any) -> int:
    """Publish the bench policy as the newest version (the caller commits)."""
    from direkte.audit.service import Actor
    from direkte.policy.service import current_policy, publish_policy

    published = publish_policy(
        session,
        clock,
        actor=Actor.system("bench-setup"),
        document=bench_policy_document(),
        expected_version=current_policy(session).version,
        note=BENCH_POLICY_NOTE,
    )
    return published.version


# Every pool diagnosis and warranty decision is safety-related, so every create is
# material (the estimate's case through the visit's safety-related diagnosis) and
# goes to a manager (tier 1), past every rule.
# Each pool visit is with its own car, as real visits are (the diagnosis facts look
# up the car's earlier visits, which a shared car would turn into a long scan).
ESCALATION_POOL_VEHICLES_SQL = """
INSERT INTO vehicles (vin, model, model_year, odometer_km, delivery_date, owner_id,
    created_at, updated_at)
SELECT 'BENCHPOOL' || lpad(g::text, 8, '0'), 'Model 3', 2022, 30000, DATE '2022-05-01',
    (:customers)[1 + g % cardinality(:customers)], now(), now()
FROM generate_series(1, :n) AS g
"""
ESCALATION_POOL_SQL = """
WITH new_visits AS (
    INSERT INTO visits (external_id, center_id, customer_id, vehicle_id, concern, status,
        currency, booked_at, appointment_date, checked_in_at, drivable, created_at, updated_at)
    SELECT 'BENCH-ESC-' || lpad(g::text, 7, '0'),
        c.id, (:customers)[1 + g % cardinality(:customers)], car.id,
        'Bench: escalation pool', 'checked_in', c.currency,
        now() - interval '3 days', current_date, now() - interval '1 hour', true, now(), now()
    FROM generate_series(1, :n) AS g
    JOIN centers c ON c.id = (:centers)[1 + g % cardinality(:centers)]
    JOIN vehicles car ON car.vin = 'BENCHPOOL' || lpad(g::text, 8, '0')
    RETURNING id, customer_id, currency
), diagnoses_ AS (
    INSERT INTO diagnoses (visit_id, seq, findings, codes, safety_related, author, created_at)
    SELECT id, 1, 'Bench: worn rear bushings', '["C1234"]', true, 'bench', now()
    FROM new_visits
    RETURNING id, visit_id
), estimates_ AS (
    INSERT INTO estimates (visit_id, seq, currency, total, reason, author, created_at)
    SELECT id, 1, currency, 4200, NULL, 'bench', now() FROM new_visits
    RETURNING id, visit_id
), warranty_ AS (
    INSERT INTO warranty_decisions (visit_id, seq, decision, currency, claimed, covered,
        claim_lines, reason_code, safety_related, author, created_at)
    SELECT id, 1, 'not_covered', currency, 4200, 0, '[]', 'WEAR', true, 'bench', now()
    FROM new_visits
    RETURNING id, visit_id
)
SELECT v.id, v.customer_id, d.id, e.id, w.id
FROM new_visits v
JOIN diagnoses_ d ON d.visit_id = v.id
JOIN estimates_ e ON e.visit_id = v.id
JOIN warranty_ w ON w.visit_id = v.id
ORDER BY v.id
"""


# The past: synthetic customers, closed visits and terminal escalations, so that the
# frequency, recent-outcome, duplicate and load look-ups run against a big table.
# One in twenty past cases belongs to a pool customer, older than 400 days (out of
# the 365-day frequency window and the cooldown, so no bench request is refused,
# but the look-ups for those customers walk real index entries).
PAST_SQL = (
    """INSERT INTO users (email, password_hash, role, name, language, languages, on_duty,
           active, created_at, updated_at)
       SELECT 'past-' || g || '@bench.example.com', 'x', 'customer', 'Past customer', 'en',
           '[]', false, true, now(), now()
       FROM generate_series(1, :customers) g""",
    """INSERT INTO vehicles (vin, model, model_year, odometer_km, owner_id, created_at,
           updated_at)
       SELECT 'PAST' || lpad(u.id::text, 13, '0'), 'Model 3', 2021, 40000, u.id, now(), now()
       FROM users u WHERE u.email LIKE 'past-%@bench.example.com'""",
    # Each past customer's visits are with their own car (about a dozen per car).
    """INSERT INTO visits (external_id, center_id, customer_id, vehicle_id, concern, status,
           currency, checked_in_at, closed_at, drivable, created_at, updated_at)
       SELECT 'BENCH-PAST-' || g, c.id, u.first + g % :customers, car.id, 'Bench: past visit',
           'closed', c.currency, now() - ((30 + g % 1100) || ' days')::interval,
           now() - ((29 + g % 1100) || ' days')::interval, true, now(), now()
       FROM generate_series(1, :visits) g
       JOIN centers c ON c.id = (:centers)[1 + g % cardinality(:centers)]
       CROSS JOIN (SELECT min(id) AS first FROM users
                   WHERE email LIKE 'past-%@bench.example.com') u
       JOIN vehicles car ON car.owner_id = u.first + g % :customers""",
    """INSERT INTO escalations (visit_id, customer_id, center_id, category, subject_id, reason,
           status, tier, assignee_id, guardrail, version, created_at, updated_at, resolved_at,
           closed_at, outcome, outcome_tier, currency)
       SELECT v.id,
           CASE WHEN g % 20 = 0 THEN (:pool)[1 + (g / 20) % cardinality(:pool)]
                ELSE v.customer_id END,
           v.center_id, (ARRAY['diagnosis','estimate','warranty'])[1 + g % 3], 1,
           'Bench: a past complaint',
           CASE WHEN g % 13 = 0 THEN 'withdrawn' ELSE 'closed' END, 1 + g % 2, m.id, '{}', 3,
           t.at, t.at, t.at + interval '1 day', t.at + interval '15 days',
           CASE WHEN g % 13 = 0 THEN NULL
                ELSE (ARRAY['upheld','revised','goodwill'])[1 + g % 3] END,
           CASE WHEN g % 13 = 0 THEN NULL ELSE 1 + g % 2 END, v.currency
       FROM generate_series(1, :n) g
       JOIN visits v ON v.external_id = 'BENCH-PAST-' || (1 + g % :visits)
       LEFT JOIN LATERAL (SELECT min(id) AS id FROM users
                          WHERE role = 'local_manager' AND center_id = v.center_id) m ON true
       CROSS JOIN LATERAL (SELECT now() - (CASE WHEN g % 20 = 0 THEN 400 + g % 700
                                                ELSE g % 1100 END || ' days')::interval
                                        - (g % 1440 || ' minutes')::interval AS at) t""",
    "ANALYZE",
)


def fill_past(url: str, n: int, pool_customers: list[int]) -> dict[str, Any]:
    """Give the bench database ``n`` past escalations (see PAST_SQL); returns timings."""
    import sqlalchemy as sa

    from direkte.db import make_engine
    from direkte.network.models import Center, Program

    started = time.monotonic()
    engine = make_engine(url)
    with engine.begin() as conn:
        centers = list(
            conn.execute(
                sa.select(Center.id).where(Center.program.in_([Program.pilot, Program.on]))
            ).scalars()
        )
        params = {
            "n": n,
            "customers": max(n // 50, 1),
            "visits": max(n // 4, 1),
            "centers": centers,
            "pool": pool_customers,
        }
        for statement in PAST_SQL:
            conn.execute(sa.text(statement), params)
        total = conn.execute(sa.text("SELECT count(*) FROM escalations")).scalar_one()
    # A database that grew to a million cases has been vacuumed along the way: without
    # this, autovacuum's insert-triggered VACUUM of the new rows ran during the measured
    # rounds (competing for the two cores), and until it ended the visibility map was
    # empty, so the index-only counts of the look-ups read the heap too.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) escalations, visits, vehicles, users")
    engine.dispose()
    return {
        "past_escalations": n,
        "escalations_in_table": total,
        "past_customers": params["customers"],
        "past_visits": params["visits"],
        "seconds": round(time.monotonic() - started, 1),
    }


# Per pool customer: existing cases in the last 365 days plus pool triples.
FREQUENCY_HEADROOM_SQL = """
SELECT coalesce(max(
    (SELECT count(*) FROM escalations e
     WHERE e.customer_id = u.id AND e.created_at > now() - interval '365 days')
    + 3 * (SELECT count(*) FROM visits v
           WHERE v.customer_id = u.id AND v.external_id LIKE 'BENCH-ESC-%')
), 0)
FROM users u
WHERE u.id = ANY(:customers)
"""


def prepare_database(url: str, escalation_visits: int = 0) -> dict[str, Any]:
    """Migrate, load the demo, create the key, bench rows, the PUT and escalation pools."""
    import sqlalchemy as sa

    from direkte.audit.service import Actor
    from direkte.auth.service import create_api_key
    from direkte.clock import SystemClock
    from direkte.db import make_engine, make_sessionmaker, upgrade_database
    from direkte.demo.generator import load_demo
    from direkte.network.models import Center, Program, Role, User
    from direkte.visits import service
    from direkte.visits.models import Visit
    from direkte.visits.schemas import VisitUpsert

    started = time.monotonic()
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    clock = SystemClock()
    with factory() as session:
        load_demo(session, seed=1, visits=300)
        api_key = create_api_key(session, clock, name="bench")
        session.commit()
        # Committed before uvicorn starts: every request reads it as the current policy.
        policy_version = publish_bench_policy(session, clock)
        session.commit()

        centers = list(session.scalars(sa.select(Center.code).order_by(Center.code)))
        customers = list(
            session.scalars(
                sa.select(User.email).where(User.role == Role.customer).order_by(User.id)
            )
        )
        # The visits the PUT scenario updates, and the vehicles it opens new visits
        # for, each its own vehicle so that concurrent requests rarely share a row lock.
        actor = Actor("api_key", None, "bench-setup")
        update_pool: list[dict[str, Any]] = []
        create_templates: list[dict[str, Any]] = []
        for n in range(UPDATE_POOL + CREATE_VEHICLES):
            body = _visit_body(
                centers[n % len(centers)],
                customers[n % len(customers)],
                _vin(100_000 + n),
                "Bench: squeak from the rear suspension",
            )
            external_id = f"BENCH-SEED-{n:05d}"
            service.upsert_visit(
                session,
                clock,
                external_id=external_id,
                data=VisitUpsert.model_validate(body),
                actor=actor,
            )
            if n < UPDATE_POOL:
                update_pool.append({"external_id": external_id, "body": body})
            else:
                create_templates.append(body)
        session.commit()

        # Customers with the most demo visits, and those visits, for the GET scenario.
        counts = sa.func.count(Visit.id)
        owners = session.execute(
            sa.select(User.id, User.email)
            .join(Visit, Visit.customer_id == User.id)
            .where(User.role == Role.customer, Visit.external_id.like("DEMO-%"))
            .group_by(User.id, User.email)
            .order_by(counts.desc(), User.id)
            .limit(GET_CUSTOMERS)
        ).all()
        get_pairs: list[dict[str, Any]] = []
        for user_id, email in owners:
            visit_ids = session.scalars(
                sa.select(Visit.id)
                .where(Visit.customer_id == user_id, Visit.external_id.like("DEMO-%"))
                .order_by(Visit.id)
            )
            get_pairs.extend({"email": email, "visit_id": v} for v in visit_ids)

        # The escalation pool: checked-in visits at centers where the program runs,
        # owned by every active customer (so that none nears the frequency limit),
        # each with one subject per category.
        program_centers = list(
            session.scalars(
                sa.select(Center.id)
                .where(Center.program.in_([Program.pilot, Program.on]))
                .order_by(Center.id)
            )
        )
        pool_customers = dict(
            session.execute(
                sa.select(User.id, User.email)
                .where(User.role == Role.customer, User.active)
                .order_by(User.id)
            ).all()
        )

    escalation_pool: list[dict[str, Any]] = []
    with engine.begin() as conn:
        if escalation_visits:
            conn.execute(
                sa.text(ESCALATION_POOL_VEHICLES_SQL),
                {"customers": list(pool_customers), "n": escalation_visits},
            )
            rows = conn.execute(
                sa.text(ESCALATION_POOL_SQL),
                {
                    "customers": list(pool_customers),
                    "centers": program_centers,
                    "n": escalation_visits,
                },
            ).all()
            escalation_pool = [
                {
                    "visit_id": visit_id,
                    "email": pool_customers[customer_id],
                    "subjects": {"diagnosis": diag, "estimate": est, "warranty": wd},
                }
                for visit_id, customer_id, diag, est, wd in rows
            ]
            if len(escalation_pool) != escalation_visits:
                raise SystemExit(
                    f"bench: escalation pool has {len(escalation_pool)} complete visits, "
                    f"expected {escalation_visits}"
                )
            # Even if every triple became a case, no customer may reach the limit.
            worst = conn.execute(
                sa.text(FREQUENCY_HEADROOM_SQL), {"customers": list(pool_customers)}
            ).scalar_one()
            if worst >= BENCH_MAX_PER_365_DAYS:
                raise SystemExit(
                    f"bench: a pool customer could reach {worst} cases in 365 days, "
                    f"over the bench frequency limit {BENCH_MAX_PER_365_DAYS}"
                )
        conn.exec_driver_sql(BENCH_ROWS_DDL)
        conn.execute(
            sa.text("INSERT INTO bench_rows (note, created_at) VALUES (:note, now())"),
            [{"note": f"seed row {n}"} for n in range(SELECT_ROWS)],
        )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {
        "api_key": api_key,
        "update_pool": update_pool,
        "create_templates": create_templates,
        "get_pairs": get_pairs,
        "escalation_pool": escalation_pool,
        "escalation_customers": len(pool_customers),
        "escalation_customer_ids": list(pool_customers),
        "policy_version": policy_version,
        "setup_seconds": round(time.monotonic() - started, 1),
    }


# ---- wrk scripts -------------------------------------------------------------------

# Shared by every scenario: per-thread ids, non-2xx counting and a JSON summary.
LUA_COMMON = r"""
local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if expect_status and status >= 200 and status <= 299 and status ~= expect_status then
    unexpected = unexpected + 1
  end
  if status == 201 and body and string.find(body, '"status":"held"', 1, true) then
    held = held + 1
  end
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.gsub(string.sub(body or "", 1, 300), "[\r\n]", " ")
    end
  end
end

function done(summary, latency, requests)
  local bad, sample, other, used_up, kept = 0, "", 0, 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    kept = kept + t:get("held")
    other = other + t:get("unexpected")
    used_up = used_up + t:get("exhausted")
    local s = t:get("first_bad")
    if sample == "" and s ~= "" then sample = s end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"non2xx":%d,"unexpected_2xx":%d,"exhausted":%d,"held":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, bad, other, used_up, kept, e.connect,
    e.read, e.write, e.timeout))
  io.write("BENCHSAMPLE " .. sample .. "\n")
end
"""

LUA_INIT = r"""
function init(args)
  non2xx = 0
  unexpected = 0  -- 2xx other than expect_status (create_escalation: 200 = folded)
  exhausted = 0  -- requests after the thread's triples ran out
  held = 0  -- 201s whose case is held by the content rule (create_escalation)
  first_bad = ""
  n = 0
  tag = args[1] or "x"
  math.randomseed(tid * 7919 + os.time())
end
"""


def _lua_str(text: str) -> str:
    assert "]==]" not in text
    return f"[==[{text}]==]"


def lua_bare_insert() -> str:
    return (
        LUA_COMMON
        + LUA_INIT
        + r"""
wrk.method = "POST"
wrk.body = '{"note":"bench insert"}'
wrk.headers["Content-Type"] = "application/json"
"""
    )


def lua_bare_select() -> str:
    return (
        LUA_COMMON
        + LUA_INIT
        + f"local rows = {SELECT_ROWS}\n"
        + r"""
function request()
  return wrk.format("GET", "/bench/select/" .. math.random(1, rows))
end
"""
    )


def lua_put_visit(api_key: str, update_pool: list[dict[str, Any]], templates: list[dict]) -> str:
    marker = "@@CONCERN@@"
    updates = []
    for item in update_pool:
        before, after = json.dumps({**item["body"], "concern": marker}).split(json.dumps(marker))
        updates.append(
            "{" + ", ".join(_lua_str(s) for s in (item["external_id"], before, after)) + "}"
        )
    creates = [_lua_str(json.dumps({**t, "concern": "Bench: new visit"})) for t in templates]
    return (
        LUA_COMMON
        + LUA_INIT
        + f"local api_key = {_lua_str(api_key)}\n"
        + "local updates = {\n  "
        + ",\n  ".join(updates)
        + "\n}\n"
        + "local creates = {\n  "
        + ",\n  ".join(creates)
        + "\n}\n"
        + r"""
local headers = {["X-API-Key"] = api_key, ["Content-Type"] = "application/json"}

-- Alternates a create (a new external id, for a known vehicle) and an update
-- (an existing visit, its concern changed so that the update writes).
function request()
  n = n + 1
  if n % 2 == 1 then
    local body = creates[math.random(1, #creates)]
    local ext = string.format("BN-%s-%d-%d", tag, tid, n)
    return wrk.format("PUT", "/api/v1/integration/visits/" .. ext, headers, body)
  end
  local u = updates[math.random(1, #updates)]
  local body = u[2] .. '"Bench update ' .. tag .. "-" .. tid .. "-" .. n .. '"' .. u[3]
  return wrk.format("PUT", "/api/v1/integration/visits/" .. u[1], headers, body)
end
"""
    )


def lua_get_visit(pairs: list[tuple[str, int]]) -> str:
    rows = ",\n  ".join(f"{{{_lua_str(token)}, {visit_id}}}" for token, visit_id in pairs)
    return (
        LUA_COMMON
        + LUA_INIT
        + "local pairs_ = {\n  "
        + rows
        + "\n}\n"
        + r"""
function request()
  local p = pairs_[math.random(1, #pairs_)]
  return wrk.format("GET", "/api/v1/visits/" .. p[2], {["Authorization"] = "Bearer " .. p[1]})
end
"""
    )


def lua_create_escalation(
    tokens: list[str], slices: list[list[tuple[int, int, dict[str, int]]]]
) -> str:
    """One wrk run of escalation creates; ``slices[t]`` are thread t+1's pool visits.

    A visit is ``(index into tokens, visit id, {category: subject id})``.

    Request k of a thread (0-based) takes visit ``k % #visits`` and category
    ``k // #visits``, so each (visit, category) is used once, a visit comes back
    only after the whole slice, and no two threads share a visit. Past the
    slice's end a thread sends requests that fail (422) and counts them.
    """
    rows = []
    for visits in slices:
        items = ",\n    ".join(
            f"{{{owner + 1}, {visit_id}, " + ", ".join(str(subjects[c]) for c in CATEGORIES) + "}"
            for owner, visit_id, subjects in visits
        )
        rows.append("{\n    " + items + "\n  }")
    return (
        LUA_COMMON
        + LUA_INIT
        + "expect_status = 201\n"
        + "local categories = {"
        + ", ".join(f'"{c}"' for c in CATEGORIES)
        + "}\n"
        + "local reasons = {"
        + ", ".join(_lua_str(ESCALATION_REASONS[c]) for c in CATEGORIES)
        + "}\n"
        + "local tokens = {"
        + ", ".join(_lua_str(t) for t in tokens)
        + "}\n"
        + "local slices = {\n  "
        + ",\n  ".join(rows)
        + "\n}\n"
        + r"""
function request()
  local visits = slices[tid] or {}
  local k = n
  n = n + 1
  if #visits == 0 or k >= #visits * #categories then
    exhausted = exhausted + 1
    return wrk.format("POST", "/api/v1/visits/0/escalations",
      {["Content-Type"] = "application/json"}, "{}")
  end
  local v = visits[k % #visits + 1]
  local c = math.floor(k / #visits) + 1
  local body = '{"category":"' .. categories[c] .. '","subject_id":' .. v[2 + c] ..
    ',"reason":"Bench ' .. tag .. "-" .. tid .. "-" .. k .. ": " .. reasons[c] .. '"}'
  return wrk.format("POST", "/api/v1/visits/" .. v[2] .. "/escalations",
    {["Authorization"] = "Bearer " .. tokens[v[1]], ["Content-Type"] = "application/json"}, body)
end
"""
    )


# ---- server and load ---------------------------------------------------------------


def start_server(db_url: str, workers: int, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIREKTE_DATABASE_URL": db_url,
        "DIREKTE_SECRET_KEY": secrets.token_hex(20),  # 40 characters
        "DIREKTE_LOG_LEVEL": "warning",
    }
    cmd = [
        str(Path(sys.executable).parent / "uvicorn"),
        "bench.bench_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"uvicorn exited early; see {log_path}")
        try:
            with urllib.request.urlopen(f"{base}/bench/select/1", timeout=2) as resp:
                if resp.status == 200:
                    # Let every worker finish importing before the load starts.
                    time.sleep(1.0 + workers)
                    return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit(f"uvicorn did not answer within 60 s; see {log_path}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def login(base: str, email: str, password: str) -> str:
    data = urllib.parse.urlencode({"username": email, "password": password}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token", data=data, timeout=10) as resp:
        token: str = json.load(resp)["access_token"]
    return token


def run_wrk(
    script: Path, url: str, *, seconds: int, connections: int, threads: int, tag: str
) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        tag,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    match = re.search(r"^BENCHJSON (.*)$", out.stdout, re.MULTILINE)
    if out.returncode != 0 or match is None:
        raise SystemExit(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(match.group(1))
    sample = re.search(r"^BENCHSAMPLE ?(.*)$", out.stdout, re.MULTILINE)
    result["non2xx_sample"] = sample.group(1) if sample else ""
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def server_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system, and system alone) used so far by the server process
    and its children.

    Beside requests/s, a figure the machine's drift moves much less: with one
    worker the process is bound by its own CPU (the GIL), so the CPU time per
    request is what the ratios are made of.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = system = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # After the command: state, ppid, ..., utime (14th field), stime (15th).
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
            system += int(fields[12])
    return total / tick, system / tick


def start_profile(
    proc: subprocess.Popen[bytes],
    name: str,
    workers: int,
    seconds: int,
    stamp: str,
    args: argparse.Namespace,
) -> subprocess.Popen[bytes] | None:
    """py-spy over the server and its workers for one measured run, as collapsed stacks."""
    if not args.profile:
        return None
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("bench: --profile needs py-spy: .venv/bin/pip install py-spy")
    out = RESULTS / f"profile-{stamp}-w{workers}-{name}.txt"
    cmd = [spy, "record", "--pid", str(proc.pid), "--subprocesses", "--nonblocking", "--gil"]
    cmd += ["--format", "raw", "--rate", "200", "--duration", str(seconds), "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---- report ------------------------------------------------------------------------


def ratios(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each ratio whose two scenarios both ran."""
    return {
        key: rows[scenario]["rps"] / rows[baseline]["rps"]
        for key, scenario, baseline, _ in RATIOS
        if scenario in rows and baseline in rows
    }


# Counters summed over a scenario's rounds (rates and latencies come from its median round).
SUMMED = (
    "requests",
    "non2xx",
    "unexpected_2xx",
    "exhausted",
    "held",
    "connect_errors",
    "read_errors",
    "write_errors",
    "timeouts",
)


def combine_rounds(workers: int, rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """One run's figures from its rounds: per scenario the round with the median
    throughput (and every round's throughput), per ratio the median of the rounds'."""
    scenarios: dict[str, dict[str, Any]] = {}
    for name in rounds[0]:
        measured = [r[name] for r in rounds]
        median = dict(sorted(measured, key=lambda m: m["rps"])[len(measured) // 2])
        for key in SUMMED:
            median[key] = sum(int(m[key]) for m in measured)
        median["rounds_rps"] = [round(m["rps"], 1) for m in measured]
        if "warmup" in measured[0]:
            median["warmup"] = measured[0]["warmup"]
        scenarios[name] = median
    per_round = [ratios(r) for r in rounds]
    combined = {key: sorted(r[key] for r in per_round)[len(per_round) // 2] for key in per_round[0]}
    return {
        "workers": workers,
        "scenarios": scenarios,
        "ratios": combined,
        "ratio_rounds": {key: [round(r[key], 3) for r in per_round] for key in per_round[0]},
    }


def non201(counts: dict[str, Any]) -> int:
    """create_escalation requests that did not create a case: non-2xx plus other 2xx."""
    return int(counts["non2xx"]) + int(counts["unexpected_2xx"])


def render(results: dict[str, Any]) -> str:
    lines = [
        f"{'workers':>7}  {'scenario':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'errors':>7} {'cpu ms/req':>10}"
    ]
    problems: list[str] = []
    creates: list[str] = []
    for run in results["runs"]:
        for name in SCENARIOS:
            if name not in run["scenarios"]:
                continue
            r = run["scenarios"][name]
            errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
            lines.append(
                f"{run['workers']:>7}  {name:<22} {r['rps']:>8.0f} {r['p50_us'] / 1000:>8.1f} "
                f"{r['p99_us'] / 1000:>8.1f} {r['non2xx']:>8} {errors:>7} "
                f"{r.get('server_cpu_ms', float('nan')):>10.2f}"
            )
            for phase, counts in (("warm-up", r.get("warmup")), ("measured", r)):
                if not counts:  # no warm-up with --warmup 0
                    continue
                if name in ESCALATION_SCENARIOS:
                    creates.append(
                        f"  {run['workers']} worker(s) {phase:<8}: {counts['requests']} requests, "
                        f"{counts['requests'] - non201(counts)} created (201), "
                        f"{non201(counts)} not 201, {counts.get('held', 0)} held"
                    )
                if counts.get("unexpected_2xx") or counts.get("exhausted") or counts.get("held"):
                    problems.append(
                        f"  {run['workers']} worker(s) {name} {phase}: "
                        f"{counts['unexpected_2xx']} unexpected 2xx (200 = folded), "
                        f"{counts['exhausted']} after the triples ran out, "
                        f"{counts.get('held', 0)} held by moderation"
                    )
    if any(run.get("ratios") for run in results["runs"]):
        lines.append("")
        lines.append(f"{'workers':>7}  {'ratio':<30} {'value':>6} {'target':>7}  verdict")
    for run in results["runs"]:
        for key, _, _, target in RATIOS:
            if key not in run.get("ratios", {}):
                continue
            value = run["ratios"][key]
            verdict = "met" if value >= target else "MISSED"
            lines.append(
                f"{run['workers']:>7}  {key:<30} {value:>5.0%} {'>=' + format(target, '.0%'):>7}"
                f"  {verdict}"
            )
    samples = [
        f"  {run['workers']} worker(s) {name}: {run['scenarios'][name]['non2xx_sample']}"
        for run in results["runs"]
        for name in SCENARIOS
        if name in run["scenarios"] and run["scenarios"][name]["non2xx"]
    ]
    if samples:
        lines += ["", "first non-2xx response per scenario:", *samples]
    if creates:
        lines += [
            "",
            "create_escalation(_past) (every request must create an open case, 201):",
            *creates,
        ]
    if problems:
        lines += ["", "PREPARATION FAILED (every create must be a new case, 201):", *problems]
    return "\n".join(lines)


# ---- main --------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="direkte_bench")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measured runs of every scenario, interleaved; the median round counts",
    )
    parser.add_argument(
        "--past",
        type=int,
        default=PAST_ESCALATIONS,
        help="past escalations added before create_escalation_past (default 1,000,000)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record each measured run with py-spy (pip install py-spy) into bench/results/; "
        "the sampling slows the server, so figures from a profiled run are not comparable",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="subset to run (a ratio needs its scenario and its baseline)",
    )
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        print(
            "bench: wrk is not installed. Install it (Debian/Ubuntu: `apt-get install -y wrk`, "
            "macOS: `brew install wrk`) and run again.",
            file=sys.stderr,
        )
        return 2
    sys.path.insert(0, str(ROOT / "src"))
    from direkte.config import normalize_database_url
    from direkte.demo.generator import DEMO_PASSWORD

    worker_counts = [int(w) for w in args.workers.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    db_url = normalize_database_url(f"{args.server}/{args.database}")
    # Every wrk run of create_escalation (warm-up and measured, per worker count)
    # takes its own slice of the pool.
    phases = [args.warmup] if args.warmup > 0 else []
    phases += [args.duration] * args.rounds
    escalation_visits = (
        len(worker_counts)
        * sum(s in ESCALATION_SCENARIOS for s in scenarios)
        * sum(escalation_pool_visits(sec, args.threads) for sec in phases)
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    print(f"bench: creating database {args.database} and loading the demo …", flush=True)
    create_database(args.server, args.database)
    results: dict[str, Any] = {
        "started_at": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {
            "duration_s": args.duration,
            "rounds": args.rounds,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "targets": {key: target for key, _, _, target in RATIOS},
            "put_mix": "alternating: new external id (create) / existing visit (update)",
            "escalation_pool": {
                "visits": escalation_visits,
                "triples": escalation_visits * len(CATEGORIES),
                "sized_for_rps": ESCALATION_POOL_RPS,
            },
        },
        "runs": [],
    }
    try:
        prepared = prepare_database(db_url, escalation_visits)
        print(
            f"bench: database ready in {prepared['setup_seconds']} s "
            f"(bench policy version {prepared['policy_version']}; escalation pool owned by "
            f"{prepared['escalation_customers']} customers)",
            flush=True,
        )
        results["settings"]["bench_policy"] = {
            "version": prepared["policy_version"],
            "document": bench_policy_document(),
        }
        results["settings"]["escalation_pool"]["customers"] = prepared["escalation_customers"]
        pool = prepared["escalation_pool"]
        pool_used = 0
        results["settings"]["get_pairs"] = len(prepared["get_pairs"])
        with tempfile.TemporaryDirectory(prefix="direkte-bench-") as tmp:
            tmpdir = Path(tmp)
            scripts = {
                "bare_insert": lua_bare_insert(),
                "bare_select": lua_bare_select(),
                "put_visit": lua_put_visit(
                    prepared["api_key"], prepared["update_pool"], prepared["create_templates"]
                ),
            }
            for name, text in scripts.items():
                (tmpdir / f"{name}.lua").write_text(text)
            paths = {
                "bare_insert": "/bench/insert",
                "bare_select": "/",
                "put_visit": "/",
                "create_escalation": "/",
                "create_escalation_past": "/",
                "get_visit": "/",
            }

            def escalation_script(seconds: int, tokens: dict[str, str]) -> Path:
                """A script with the next unused pool visits, one slice per wrk thread."""
                nonlocal pool_used
                take = escalation_pool_visits(seconds, args.threads)
                chunk = pool[pool_used : pool_used + take]
                if len(chunk) < take:
                    raise SystemExit("bench: the escalation pool ran out (a sizing bug)")
                pool_used += take
                owners = sorted({visit["email"] for visit in chunk})
                per_thread = take // args.threads
                slices = [
                    [
                        (owners.index(v["email"]), v["visit_id"], v["subjects"])
                        for v in chunk[t * per_thread : (t + 1) * per_thread]
                    ]
                    for t in range(args.threads)
                ]
                script = tmpdir / f"create_escalation-{pool_used}.lua"
                script.write_text(lua_create_escalation([tokens[e] for e in owners], slices))
                return script

            for workers in worker_counts:
                log_path = RESULTS / f"uvicorn-{stamp}-w{workers}.log"
                print(f"bench: starting uvicorn with {workers} worker(s) …", flush=True)
                proc = start_server(db_url, workers, args.port, log_path)
                base = f"http://127.0.0.1:{args.port}"
                try:
                    tokens: dict[str, str] = {}
                    pairs = []
                    for pair in prepared["get_pairs"]:
                        email = pair["email"]
                        if email not in tokens:
                            tokens[email] = login(base, email, DEMO_PASSWORD)
                        pairs.append((tokens[email], pair["visit_id"]))
                    (tmpdir / "get_visit.lua").write_text(lua_get_visit(pairs))
                    for email in {visit["email"] for visit in pool}:
                        if email not in tokens:
                            tokens[email] = login(base, email, DEMO_PASSWORD)
                    common = {"connections": args.connections, "threads": args.threads}

                    def measure(
                        name: str,
                        round_no: int,
                        *,
                        base: str = base,
                        tokens: dict[str, str] = tokens,
                        proc: subprocess.Popen[bytes] = proc,
                        workers: int = workers,
                        common: dict[str, int] = common,
                    ) -> dict[str, Any]:
                        """One measured wrk run of a scenario (after a warm-up in round 1)."""
                        script = tmpdir / f"{name}.lua"
                        url = base + paths[name]
                        warmup = None
                        if args.warmup > 0 and round_no == 1:
                            if name in ESCALATION_SCENARIOS:
                                script = escalation_script(args.warmup, tokens)
                            warmup = run_wrk(
                                script,
                                url,
                                seconds=args.warmup,
                                tag=f"{stamp}w{workers}u",
                                **common,
                            )
                        if name in ESCALATION_SCENARIOS:
                            script = escalation_script(args.duration, tokens)
                        spy = start_profile(proc, name, workers, args.duration, stamp, args)
                        cpu_before, sys_before = server_cpu_seconds(proc.pid)
                        result = run_wrk(
                            script, url, seconds=args.duration, tag=f"{stamp}w{workers}m", **common
                        )
                        cpu_after, sys_after = server_cpu_seconds(proc.pid)
                        per_request = 1000 / max(result["requests"], 1)
                        result["server_cpu_ms"] = (cpu_after - cpu_before) * per_request
                        result["server_sys_ms"] = (sys_after - sys_before) * per_request
                        if spy is not None:
                            spy.wait()
                            result["profile"] = str(spy.args[-1])
                        if warmup is not None:
                            result["warmup"] = {k: warmup[k] for k in WARMUP_KEYS}
                        print(
                            f"  round {round_no}  {name:<22} {result['rps']:>8.0f} req/s  "
                            f"p50 {result['p50_us'] / 1000:.1f} ms  "
                            f"p99 {result['p99_us'] / 1000:.1f} ms  "
                            f"cpu {result['server_cpu_ms']:.2f} ms/req "
                            f"(sys {result['server_sys_ms']:.2f})  non-2xx {result['non2xx']}"
                            + (
                                f"  unexpected 2xx {result['unexpected_2xx']}"
                                f"  exhausted {result['exhausted']}  held {result['held']}"
                                if name in ESCALATION_SCENARIOS
                                else ""
                            ),
                            flush=True,
                        )
                        return result

                    # Rounds: every scenario once per round, so that a ratio compares
                    # runs minutes apart at most; each ratio is the median of its
                    # rounds' ratios (this machine's speed drifts 15-25 % between runs).
                    before_past = [s for s in scenarios if s != "create_escalation_past"]
                    rounds: list[dict[str, dict[str, Any]]] = []
                    for round_no in range(1, args.rounds + 1):
                        rounds.append({name: measure(name, round_no) for name in before_past})
                    if "create_escalation_past" in scenarios:
                        if "past" not in results["settings"]:
                            print(
                                f"bench: adding {args.past:,} past escalations "
                                "(the server keeps running) …",
                                flush=True,
                            )
                            past = fill_past(db_url, args.past, prepared["escalation_customer_ids"])
                            results["settings"]["past"] = past
                            print(
                                f"bench: {past['escalations_in_table']:,} escalations in the "
                                f"table after {past['seconds']} s",
                                flush=True,
                            )
                        for round_no, measured in enumerate(rounds, 1):
                            measured["create_escalation_past"] = measure(
                                "create_escalation_past", round_no
                            )
                    run = combine_rounds(workers, rounds)
                finally:
                    stop_server(proc)
                results["runs"].append(run)
        results["settings"]["escalation_pool"]["visits_used"] = pool_used
    finally:
        if not args.keep_db:
            drop_database(args.server, args.database)

    if results["runs"]:
        table = render(results)
        print("\n" + table)
        results["table"] = table
    out = RESULTS / f"http-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    shutil.copyfile(out, RESULTS / "latest.json")
    print(f"\nbench: results written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
