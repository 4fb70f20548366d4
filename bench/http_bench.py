"""HTTP benchmark: integration PUT, escalation create, customer GET and the inbox vs bare endpoints.

Run from the project root (PostgreSQL on 127.0.0.1:5432, trust auth, wrk installed):

    .venv/bin/python bench/http_bench.py

It creates a throw-away database (``direkte_bench``), migrates it, loads the demo
network (seed 1, 300 visits), publishes the bench guardrail policy (the default
with only ``frequency.max_per_365_days`` and the capacity caps raised to the highest
values allowed, every rule still on), creates an API key, the bench-only table
``bench_rows`` and a manager's inbox of 50 open cases, then for each worker count
starts ``uvicorn bench.bench_app:app --workers N`` on 127.0.0.1 (with direkte's
HTTP protocol, as ``direkte serve``) and drives the scenarios with wrk:
``--rounds`` (default 3) rounds, each running every scenario once (after a
warm-up in the first round), so that the two sides of a ratio are measured
minutes apart at most; each ratio is the median of its rounds' ratios and each
scenario is reported by its median round (this machine drifts 15-25 % from run
to run):

* ``bare_insert``        POST /bench/insert                       one INSERT of one row
* ``put_visit``          PUT  /api/v1/integration/visits/{ext_id} half creates, half updates
* ``create_escalation``  POST /api/v1/visits/{id}/escalations     every request a new case
* ``bare_select``        GET  /bench/select/{id}                  one primary-key SELECT
* ``get_visit``          GET  /api/v1/visits/{id}                 a customer reads their visit
* ``inbox``              GET  /api/v1/inbox?limit=50              a manager's 50 open cases

Creates are not repeatable (a second request for a visit and category is folded
into the open case, 200), so every wrk run of ``create_escalation`` gets its own
unused (visit, category, subject) triples, made just before the run (the pool is
topped up between runs; the cases the earlier runs opened are closed first, as
managers would resolve them, so that every run starts from the same open load: see
``SETTLE_SQL``) and sized from the fastest rate measured so far (the bare
insert's or the create's, whichever is higher) with a margin, split into disjoint
slices per wrk thread; owners are spread so that no customer nears the bench
policy's frequency limit (new bench customers are added when needed). A run that
would need more triples fails its requests visibly (``exhausted``).

Nothing flatters: any non-2xx answer, socket error or timeout in any run (warm-up
or measured), any create that is not a new open case (folded, held, exhausted),
an inbox that is not 50 items, or a bare endpoint that is not faster with 2
workers than with 1, makes the run FAILED: no ratio is printed and the exit
status is 1. Otherwise it prints requests/s, p50, p99, non-2xx, the server's CPU
per request and its database back-ends' (``db ms/req``: PostgreSQL shares the
cores) per scenario and worker count, and the ratios against the targets. The
whole result goes as JSON to bench/results/ (gitignored). The database is
dropped at the end unless --keep-db is given. See docs/performance.md.
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
ESCALATION_TARGET = 0.35  # escalation create >= 35 % of bare-insert throughput
INBOX_TARGET = 0.25  # the inbox (a page of 50) >= 25 % of bare-select throughput
SELECT_ROWS = 10_000
UPDATE_POOL = 400  # existing visits the PUT scenario updates
CREATE_VEHICLES = 400  # known vehicles the PUT scenario opens new visits for
GET_CUSTOMERS = 8
INBOX_CASES = 50  # open tier-1 cases in the inbox manager's center; the page is all of them
INBOX_EARLIER_VISITS = 2  # earlier visits of each inbox case's car (the item lists them)
# The bench policy: every guardrail rule stays on, only the limits a load test
# would hit are raised to the highest values the policy document accepts
# (frequency.max_per_365_days <= 1,000; capacity caps <= 10,000). Pool visits are
# given to owners so that none reaches the frequency limit.
BENCH_MAX_PER_365_DAYS = 1_000
BENCH_OPEN_CAP = 10_000
BENCH_POLICY_NOTE = "bench: frequency and capacity limits raised; every other rule as default"
# Triples a pool customer may be given, with their cases of the last 365 days,
# below the frequency limit (every triple given may become a case).
CUSTOMER_TRIPLES = BENCH_MAX_PER_365_DAYS - 50
# The pool is topped up before every wrk run of a create scenario, for
# POOL_MARGIN times the fastest rate measured so far in the run (the bare insert's
# or a create's: the create cannot outrun the bare insert on the same stack by
# much), at least POOL_MIN_RPS (before anything was measured).
POOL_MARGIN = 1.5
POOL_MIN_RPS = 400
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
    "inbox",
    "create_escalation_past",
)
# create_escalation again, after the database was given this many past escalations.
PAST_ESCALATIONS = 1_000_000
PAST_TARGET = 1 / 1.15  # at most 15 % slower: throughput >= 1 / 1.15 of create_escalation
WARMUP_KEYS = (
    "requests",
    "rps",
    "non2xx",
    "status_errors",
    "unexpected_2xx",
    "exhausted",
    "held",
    "connect_errors",
    "read_errors",
    "write_errors",
    "timeouts",
)
# (key, scenario, baseline, target)
RATIOS = (
    ("put_vs_bare_insert", "put_visit", "bare_insert", PUT_TARGET),
    ("escalation_vs_bare_insert", "create_escalation", "bare_insert", ESCALATION_TARGET),
    ("get_vs_bare_select", "get_visit", "bare_select", GET_TARGET),
    ("inbox_vs_bare_select", "inbox", "bare_select", INBOX_TARGET),
    ("escalation_past_vs_escalation", "create_escalation_past", "create_escalation", PAST_TARGET),
)
ESCALATION_SCENARIOS = ("create_escalation", "create_escalation_past")
# The bare endpoints must be faster with 2 workers than with 1 (else the baseline is
# broken, as it was while uvicorn's workers ran with Nagle's algorithm on).
SCALING_SCENARIOS = ("bare_insert", "bare_select")

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
# Serial numbers g run from :first over :n visits; :owners[i] owns the i-th.
ESCALATION_POOL_VEHICLES_SQL = """
INSERT INTO vehicles (vin, model, model_year, odometer_km, delivery_date, owner_id,
    created_at, updated_at)
SELECT 'BENCHPOOL' || lpad(g::text, 8, '0'), 'Model 3', 2022, 30000, DATE '2022-05-01',
    (:owners)[g - CAST(:first AS integer) + 1], now(), now()
FROM generate_series(CAST(:first AS integer), CAST(:first AS integer) + :n - 1) AS g
"""
ESCALATION_POOL_SQL = """
WITH new_visits AS (
    INSERT INTO visits (external_id, center_id, customer_id, vehicle_id, concern, status,
        currency, booked_at, appointment_date, checked_in_at, drivable, created_at, updated_at)
    SELECT 'BENCH-ESC-' || lpad(g::text, 7, '0'),
        c.id, (:owners)[g - CAST(:first AS integer) + 1], car.id,
        'Bench: escalation pool', 'checked_in', c.currency,
        now() - interval '3 days', current_date, now() - interval '1 hour', true, now(), now()
    FROM generate_series(CAST(:first AS integer), CAST(:first AS integer) + :n - 1) AS g
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
# Bench customers, when the demo's cannot take more triples: same password as the demo's.
POOL_CUSTOMERS_SQL = """
INSERT INTO users (email, password_hash, role, name, language, languages, on_duty, active,
    created_at, updated_at)
SELECT 'bench-customer-' || g || '@bench.example.com',
    (SELECT password_hash FROM users WHERE id = :template), 'customer', 'Bench customer ' || g,
    'en', '[]', false, true, now(), now()
FROM generate_series(CAST(:first AS integer), CAST(:first AS integer) + :n - 1) AS g
RETURNING id, email
"""
# The inbox cases' cars each had earlier visits with the same customer, closed.
INBOX_EARLIER_SQL = """
INSERT INTO visits (external_id, center_id, customer_id, vehicle_id, concern, status,
    currency, checked_in_at, closed_at, drivable, created_at, updated_at)
SELECT v.external_id || '-E' || k, v.center_id, v.customer_id, v.vehicle_id,
    'Bench: an earlier visit', 'closed', v.currency,
    now() - (k * 90 || ' days')::interval, now() - (k * 90 - 1 || ' days')::interval, true,
    now() - (k * 90 || ' days')::interval, now() - (k * 90 - 1 || ' days')::interval
FROM visits v CROSS JOIN generate_series(1, :earlier) AS k
WHERE v.id = ANY(:visits)
"""
# Cases in a local manager's inbox: the center's open tier-1 cases (as list_inbox).
CENTER_INBOX_SQL = """
SELECT count(*) FROM escalations
WHERE center_id = :center AND tier = 1 AND status IN ('open', 'acknowledged', 'awaiting_customer')
"""


# Before each create run, the cases earlier create runs opened are closed (outcome
# "revised": an "upheld" streak would put their customers in the frequency rule's
# cooldown) and the table vacuumed, as managers and autovacuum would between busy
# hours. Without it the load only grows: the bench policy's raised caps send every
# create to its center's local manager, who had ~1,500 open cases by a fourth round
# (the default cap is 15), and the create's count of the managers' open cases, which
# reads each of them, made later rounds 15-20 % slower than the first: the rounds
# measured different databases. The inbox's open cases are never touched.
SETTLE_SQL = """
UPDATE escalations
SET status = 'closed', outcome = 'revised', outcome_tier = tier, resolved_at = now(),
    closed_at = now(), updated_at = now(), version = version + 1
WHERE visit_id = ANY(:visits) AND status IN ('open', 'acknowledged', 'awaiting_customer')
"""


class EscalationPool:
    """Pool visits for escalation creates, made when a run needs them.

    Each visit has three (category, subject) triples; every triple may become a
    case, so a visit goes to an owner with room for three more cases under the
    bench policy's frequency limit (the demo customers first, then bench
    customers made here). ``rates`` collects every measured rate the create's
    could approach; :meth:`visits_for` sizes a run from the highest of them.
    """

    def __init__(self, url: str, *, centers: list[int], customers: dict[int, str]) -> None:
        import sqlalchemy as sa

        from direkte.db import make_engine

        self.engine = make_engine(url)
        self.centers = centers
        self.emails = dict(customers)
        self.rates: list[float] = []
        self.handed: list[int] = []  # visits of create runs, closed by the next take
        self.settled = 0
        self.next_serial = 1
        self.visits_made = 0
        self.customers_added = 0
        self._cursor = 0
        with self.engine.connect() as conn:
            recent: dict[int, int] = dict(
                conn.execute(
                    sa.text(
                        "SELECT customer_id, count(*) FROM escalations "
                        "WHERE created_at > now() - interval '365 days' GROUP BY customer_id"
                    )
                ).all()
            )
        # Triples given (or cases held) per owner, against CUSTOMER_TRIPLES.
        self.given = {c: int(recent.get(c, 0)) for c in self.emails}
        self.template = next(iter(self.emails))

    def sizing_rps(self) -> float:
        return POOL_MARGIN * max([POOL_MIN_RPS, *self.rates])

    def visits_for(self, seconds: int, threads: int) -> int:
        """Visits for a run of ``seconds``: three triples each, whole per wrk thread."""
        visits = -(-int(self.sizing_rps() * seconds) // len(CATEGORIES))
        return -(-visits // threads) * threads

    def _owners(self, n: int) -> list[int]:
        import sqlalchemy as sa

        per_visit = len(CATEGORIES)
        room = sum(max(CUSTOMER_TRIPLES - g, 0) // per_visit for g in self.given.values())
        if room < n:
            more = -(-(n - room) // (CUSTOMER_TRIPLES // per_visit)) + 1
            with self.engine.begin() as conn:
                rows = conn.execute(
                    sa.text(POOL_CUSTOMERS_SQL),
                    {"template": self.template, "first": self.customers_added + 1, "n": more},
                ).all()
            self.customers_added += more
            for customer_id, email in rows:
                self.emails[customer_id] = email
                self.given[customer_id] = 0
        ids = list(self.given)
        owners: list[int] = []
        while len(owners) < n:  # round robin over the owners with room
            customer = ids[self._cursor % len(ids)]
            self._cursor += 1
            if self.given[customer] + per_visit <= CUSTOMER_TRIPLES:
                self.given[customer] += per_visit
                owners.append(customer)
        return owners

    def settle(self) -> int:
        """Close the open cases of the visits handed to earlier create runs (SETTLE_SQL)
        and vacuum the table; returns the cases closed."""
        import sqlalchemy as sa

        if not self.handed:
            return 0
        with self.engine.begin() as conn:
            closed = conn.execute(sa.text(SETTLE_SQL), {"visits": self.handed}).rowcount
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE) escalations"))
        self.handed = []
        self.settled += closed
        return closed

    def take(self, n: int, *, centers: list[int] | None = None) -> list[dict[str, Any]]:
        """``n`` new checked-in visits, each with its three subjects, owned and committed.

        Without ``centers`` (a create run's visits) the earlier create runs' cases are
        settled first (``settle``) and these visits are the next ones settled."""
        import sqlalchemy as sa

        if centers is None:
            self.settle()
        owners = self._owners(n)
        params = {
            "first": self.next_serial,
            "n": n,
            "owners": owners,
            "centers": centers or self.centers,
        }
        with self.engine.begin() as conn:
            conn.execute(sa.text(ESCALATION_POOL_VEHICLES_SQL), params)
            rows = conn.execute(sa.text(ESCALATION_POOL_SQL), params).all()
        self.next_serial += n
        self.visits_made += n
        if len(rows) != n:
            raise SystemExit(f"bench: the pool got {len(rows)} complete visits, expected {n}")
        if centers is None:
            self.handed += [row[0] for row in rows]
        return [
            {
                "visit_id": visit_id,
                "email": self.emails[customer_id],
                "subjects": {"diagnosis": diag, "estimate": est, "warranty": wd},
            }
            for visit_id, customer_id, diag, est, wd in rows
        ]

    def close(self) -> None:
        self.engine.dispose()


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


def prepare_database(url: str, escalation_visits: int = 0) -> dict[str, Any]:
    """Migrate, load the demo, create the key, bench rows, the PUT pool, pick the inbox's
    center and set up the escalation pool (``escalation_visits`` visits taken at once,
    for cpu_bench.py; http_bench.py tops the pool up per run instead)."""
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
        # owned by the active customers, each with one subject per category. One of
        # those centers (the one with the fewest open tier-1 cases) is kept for the
        # inbox: its local manager's inbox gets exactly INBOX_CASES cases.
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
        managers = dict(
            session.execute(
                sa.select(User.center_id, sa.func.min(User.email))
                .where(User.role == Role.local_manager, User.active)
                .group_by(User.center_id)
            ).all()
        )
        loads = {
            center: session.execute(sa.text(CENTER_INBOX_SQL), {"center": center}).scalar_one()
            for center in program_centers
            if center in managers
        }
        inbox_center = min(loads, key=lambda c: (loads[c], c))
        if loads[inbox_center] > INBOX_CASES:
            raise SystemExit(f"bench: no program center has at most {INBOX_CASES} open cases")

    with engine.begin() as conn:
        conn.exec_driver_sql(BENCH_ROWS_DDL)
        conn.execute(
            sa.text("INSERT INTO bench_rows (note, created_at) VALUES (:note, now())"),
            [{"note": f"seed row {n}"} for n in range(SELECT_ROWS)],
        )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    pool = EscalationPool(
        url, centers=[c for c in program_centers if c != inbox_center], customers=pool_customers
    )
    return {
        "api_key": api_key,
        "update_pool": update_pool,
        "create_templates": create_templates,
        "get_pairs": get_pairs,
        "pool": pool,
        "escalation_pool": pool.take(escalation_visits) if escalation_visits else [],
        "escalation_customers": len(pool_customers),
        "escalation_customer_ids": list(pool_customers),
        "inbox_center": inbox_center,
        "inbox_manager": managers[inbox_center],
        "inbox_cases_before": loads[inbox_center],
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
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"status_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, bad, other, used_up, kept, e.connect,
    e.read, e.write, e.timeout, e.status))
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


def lua_inbox(token: str) -> str:
    return (
        LUA_COMMON
        + LUA_INIT
        + f"local token = {_lua_str(token)}\n"
        + f'local path = "/api/v1/inbox?limit={INBOX_CASES}"\n'
        + r"""
function request()
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
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


# The server stacks the benchmark can start (``--stack``; ``--stacks`` compares them on the
# bare endpoints). The first is what ``direkte serve`` runs (direkte.api.serving).
STACKS = (
    "uvicorn-uvloop-httptools",  # uvicorn[standard]'s fast path, TCP_NODELAY set by us
    "uvicorn-asyncio-h11",  # the pure-Python stack direkte served on until 2026-12-05
    "granian",  # granian's Rust HTTP server, ASGI interface, uvloop
    "uvicorn-h11-nagle",  # uvicorn's own h11 protocol: Nagle left on with workers > 1
    "uvicorn-uvloop-httptools-own",  # uvicorn's own httptools protocol (no TCP_NODELAY of ours)
)


def server_command(
    stack: str, workers: int, port: int, app: str = "bench.bench_app:app"
) -> list[str]:
    """The command that serves ``app`` on 127.0.0.1:``port`` with ``workers`` processes."""
    from direkte.api.serving import H11_PROTOCOL, HTTP_PROTOCOL, WORKER_HEALTHCHECK_SECONDS

    bin_dir = Path(sys.executable).parent
    if stack == "granian":
        return [
            str(bin_dir / "granian"),
            "--interface",
            "asgi",
            "--loop",
            "uvloop",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-ws",
            app,
        ]
    loop, http = {
        "uvicorn-uvloop-httptools": ("uvloop", HTTP_PROTOCOL),
        "uvicorn-asyncio-h11": ("asyncio", H11_PROTOCOL),
        "uvicorn-h11-nagle": ("asyncio", "h11"),
        "uvicorn-uvloop-httptools-own": ("uvloop", "httptools"),
    }[stack]
    return [
        str(bin_dir / "uvicorn"),
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        "--loop",
        loop,
        "--http",
        http,
        "--timeout-worker-healthcheck",
        str(WORKER_HEALTHCHECK_SECONDS),
    ]


def ensure_port_free(port: int) -> None:
    """Refuse to start on a port something else listens on: the readiness check (and
    wrk) would otherwise talk to that server (the machine is shared)."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise SystemExit(
                f"bench: port {port} is in use ({exc}); pick another with --port"
            ) from None


def wait_ready(
    proc: subprocess.Popen[bytes], url: str, log_path: Path, *, settle: float, what: str
) -> None:
    """Wait until ``url`` answers 200 (600 s at most: every worker loads the language
    models at start-up, which took over 3 minutes for 2 workers on the shared 2-core
    machine at a load of 15), then ``settle`` seconds more."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    # Let every worker finish importing before the load starts.
                    time.sleep(settle)
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit(f"{what} did not answer within 600 s; see {log_path}")


def start_server(
    db_url: str,
    workers: int,
    port: int,
    log_path: Path,
    stack: str,
    app: str = "bench.bench_app:app",
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIREKTE_DATABASE_URL": db_url,
        "DIREKTE_SECRET_KEY": secrets.token_hex(20),  # 40 characters
        "DIREKTE_LOG_LEVEL": "warning",
        # The per-caller limit stays on (its cost is measured) but above what one
        # caller sends here: the inbox scenario is one manager's token.
        "DIREKTE_RATE_LIMIT": os.environ.get("DIREKTE_RATE_LIMIT", "10000000/minute"),
        # The bench logs its customers in from 127.0.0.1 at every server start (one token
        # each, several hundred on a fast host, four starts within a minute or two): the
        # per-address limit of anonymous requests (120 a minute) refused them with 429.
        # Log-ins are set-up, not measured.
        "DIREKTE_RATE_LIMIT_ANONYMOUS": os.environ.get(
            "DIREKTE_RATE_LIMIT_ANONYMOUS", "10000000/minute"
        ),
    }
    ensure_port_free(port)
    log = log_path.open("wb")
    proc = subprocess.Popen(
        server_command(stack, workers, port, app),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_ready(
        proc, f"http://127.0.0.1:{port}/bench/select/1", log_path, settle=1.0 + workers, what=stack
    )
    return proc


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


def _request(
    method: str, url: str, *, token: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")[:300]


def fill_inbox(
    base: str, pool: EscalationPool, tokens: dict[str, str], *, center: int, need: int
) -> list[str]:
    """Open ``need`` tier-1 cases at ``center`` through the API, each on its own visit
    whose car has INBOX_EARLIER_VISITS earlier visits; returns the problems."""
    import sqlalchemy as sa

    from direkte.demo.generator import DEMO_PASSWORD

    visits = pool.take(need, centers=[center])
    with pool.engine.begin() as conn:
        conn.execute(
            sa.text(INBOX_EARLIER_SQL),
            {"visits": [v["visit_id"] for v in visits], "earlier": INBOX_EARLIER_VISITS},
        )
    problems = []
    for n, visit in enumerate(visits):
        email = visit["email"]
        if email not in tokens:
            tokens[email] = login(base, email, DEMO_PASSWORD)
        status, reply = _request(
            "POST",
            f"{base}/api/v1/visits/{visit['visit_id']}/escalations",
            token=tokens[email],
            body={
                "category": "diagnosis",
                "subject_id": visit["subjects"]["diagnosis"],
                "reason": f"Bench inbox {n}: {ESCALATION_REASONS['diagnosis']}",
            },
        )
        if status != 201 or reply["status"] != "open" or reply["tier"] != 1:
            problems.append(f"inbox case {n}: {status} {str(reply)[:200]}")
    # The statistics taken at set-up predate these cases: analyze again, as autovacuum
    # would soon, or the planner reads the inbox's tables as nearly empty.
    with pool.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return problems


def check_inbox(base: str, token: str) -> list[str]:
    """The inbox page the scenario reads: all INBOX_CASES cases, on one page."""
    status, reply = _request("GET", f"{base}/api/v1/inbox?limit={INBOX_CASES}", token=token)
    if status != 200:
        return [f"inbox: {status} {reply}"]
    if len(reply["items"]) != INBOX_CASES or reply["next_cursor"] is not None:
        return [
            f"inbox: {len(reply['items'])} items (next_cursor {reply['next_cursor']!r}), "
            f"expected {INBOX_CASES} on one page"
        ]
    return []


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


class DatabaseCpu:
    """CPU time used so far by the PostgreSQL back-ends serving the bench database (the
    app's pool and the rate counter's), read from ``/proc`` as for the server: on this
    machine PostgreSQL shares the cores with the server and wrk, so a page that costs
    the database 5 ms costs the throughput as much as 5 ms of Python. Needs the database
    on this host (back-ends not visible in ``/proc`` count as zero)."""

    def __init__(self, db_url: str) -> None:
        import sqlalchemy as sa

        self._engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
        self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._query = sa.text(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid != pg_backend_pid()"
        )

    def seconds(self) -> dict[int, float]:
        """Each back-end's CPU seconds so far, by process id."""
        tick = os.sysconf("SC_CLK_TCK")
        used: dict[int, float] = {}
        for pid in self._conn.execute(self._query).scalars():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
        return used

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU seconds between two readings (a back-end started meanwhile from zero)."""
        return sum(
            t - before.get(pid, 0.0) for pid, t in after.items() if t >= before.get(pid, 0.0)
        )

    def close(self) -> None:
        self._conn.close()
        self._engine.dispose()


def wait_idle(pid: int, *, limit: float = 120.0) -> float:
    """Wait until the server is idle (under 5 % of a core over a quarter second); returns
    the seconds waited. When wrk stops, the server may still be answering the
    requests it had taken in (the slow inbox leaves up to a queue's worth), which
    would otherwise run into the next scenario's measurement."""
    started = time.monotonic()
    before = server_cpu_seconds(pid)[0]
    while time.monotonic() - started < limit:
        time.sleep(0.25)
        now = server_cpu_seconds(pid)[0]
        if now - before < 0.0125:
            break
        before = now
    return time.monotonic() - started


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
    svg = getattr(args, "flamegraph", False)
    out = RESULTS / f"profile-{stamp}-w{workers}-{name}.{'svg' if svg else 'txt'}"
    cmd = [spy, "record", "--pid", str(proc.pid), "--subprocesses", "--nonblocking", "--gil"]
    cmd += ["--format", "flamegraph" if svg else "raw", "--rate", "200"]
    cmd += ["--duration", str(seconds), "-o", str(out)]
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
    "status_errors",
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
        median["rounds_requests"] = [int(m["requests"]) for m in measured]
        if "warmup" in measured[0]:
            median["warmup"] = measured[0]["warmup"]
        scenarios[name] = median
    per_round = [ratios(r) for r in rounds]
    combined = {key: sorted(r[key] for r in per_round)[len(per_round) // 2] for key in per_round[0]}
    return {
        "workers": workers,
        "scenarios": scenarios,
        "ratios": combined,
        "ratio_rounds": {key: [round(r[key], 4) for r in per_round] for key in per_round[0]},
    }


def non201(counts: dict[str, Any]) -> int:
    """create_escalation requests that did not create a case: non-2xx plus other 2xx."""
    return int(counts["non2xx"]) + int(counts["unexpected_2xx"])


def _errors(counts: dict[str, Any]) -> int:
    return sum(
        int(counts.get(k, 0)) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )


def check(results: dict[str, Any]) -> list[str]:
    """Everything that makes a run's figures unusable; empty when none.

    Any non-2xx answer (the Lua count, and wrk's own count of 4xx/5xx), socket
    error or timeout, in a warm-up or a measured round; a create that is not a new
    open case (a folded 200, a request after the pool slice ran out, a held case);
    the inbox's preparation; a bare endpoint not faster with 2 workers than with 1.
    """
    problems: list[str] = list(results.get("preparation_problems", []))
    for run in results["runs"]:
        problems += [f"{run['workers']} worker(s): {p}" for p in run.get("problems", [])]
        for name in SCENARIOS:
            if name not in run["scenarios"]:
                continue
            r = run["scenarios"][name]
            for phase, counts in (("warm-up", r.get("warmup")), ("measured", r)):
                if not counts:  # no warm-up with --warmup 0
                    continue
                where = f"{run['workers']} worker(s) {name} {phase}"
                if phase == "measured" and min(r.get("rounds_requests", [0])) == 0:
                    problems.append(f"{where}: a round in which no request completed")
                if counts["non2xx"] or counts.get("status_errors") or _errors(counts):
                    problems.append(
                        f"{where}: {counts['non2xx']} non-2xx "
                        f"({counts.get('status_errors', 0)} 4xx/5xx by wrk's count), "
                        f"{_errors(counts)} socket errors or timeouts"
                    )
                if name in ESCALATION_SCENARIOS and (
                    counts["unexpected_2xx"] or counts["exhausted"] or counts["held"]
                ):
                    problems.append(
                        f"{where}: {counts['unexpected_2xx']} unexpected 2xx (200 = folded), "
                        f"{counts['exhausted']} after the pool slice ran out (pool dry), "
                        f"{counts['held']} held by moderation"
                    )
    by_workers = {run["workers"]: run["scenarios"] for run in results["runs"]}
    if 1 in by_workers and 2 in by_workers:
        for name in SCALING_SCENARIOS:
            if name in by_workers[1] and name in by_workers[2]:
                one, two = by_workers[1][name]["rps"], by_workers[2][name]["rps"]
                if two <= one:
                    problems.append(
                        f"{name}: {two:.0f} req/s with 2 workers, not more than {one:.0f} "
                        "with 1 (a broken baseline: every 2-worker ratio would flatter)"
                    )
    return problems


def render(results: dict[str, Any], problems: list[str]) -> str:
    """The table; the ratios only when ``problems`` is empty."""
    lines = [
        f"{'workers':>7}  {'scenario':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'errors':>7} {'cpu ms/req':>10} {'db ms/req':>9}  rounds req/s"
    ]
    creates: list[str] = []
    for run in results["runs"]:
        for name in SCENARIOS:
            if name not in run["scenarios"]:
                continue
            r = run["scenarios"][name]
            lines.append(
                f"{run['workers']:>7}  {name:<22} {r['rps']:>8.0f} {r['p50_us'] / 1000:>8.1f} "
                f"{r['p99_us'] / 1000:>8.1f} {r['non2xx']:>8} {_errors(r):>7} "
                f"{r.get('server_cpu_ms', float('nan')):>10.2f} "
                f"{r.get('db_cpu_ms', float('nan')):>9.2f}  "
                + " / ".join(f"{v:.0f}" for v in r["rounds_rps"])
            )
            if name in ESCALATION_SCENARIOS:
                for phase, counts in (("warm-up", r.get("warmup")), ("measured", r)):
                    if counts:
                        creates.append(
                            f"  {run['workers']} worker(s) {name} {phase:<8}: "
                            f"{counts['requests']} requests, "
                            f"{counts['requests'] - non201(counts)} created (201), "
                            f"{non201(counts)} not 201, {counts['held']} held, "
                            f"{counts['exhausted']} after the pool ran dry"
                        )
    if creates:
        lines += ["", "escalation creates (every request must create an open case, 201):"]
        lines += creates
    samples = [
        f"  {run['workers']} worker(s) {name}: {run['scenarios'][name]['non2xx_sample']}"
        for run in results["runs"]
        for name in SCENARIOS
        if name in run["scenarios"] and run["scenarios"][name]["non2xx"]
    ]
    if samples:
        lines += ["", "first non-2xx response per scenario:", *samples]
    if problems:
        lines += ["", "FAILED: no ratio is reported, the figures above are not a result:"]
        lines += [f"  {p}" for p in problems]
        return "\n".join(lines)
    if any(run.get("ratios") for run in results["runs"]):
        lines.append("")
        lines.append(f"{'workers':>7}  {'ratio':<30} {'value':>6} {'target':>7}  verdict  rounds")
    for run in results["runs"]:
        for key, _, _, target in RATIOS:
            if key not in run.get("ratios", {}):
                continue
            value = run["ratios"][key]
            verdict = "met" if value >= target else "MISSED"
            shown = " / ".join(f"{v:.0%}" for v in run["ratio_rounds"][key])
            lines.append(
                f"{run['workers']:>7}  {key:<30} {value:>5.0%} {'>=' + format(target, '.0%'):>7}"
                f"  {verdict:<7}  {shown}"
            )
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
        "--flamegraph",
        action="store_true",
        help="with --profile: write each profile as a flame graph SVG instead of collapsed stacks",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="subset to run (a ratio needs its scenario and its baseline)",
    )
    parser.add_argument(
        "--stack",
        default=STACKS[0],
        choices=STACKS,
        help="the server stack (default: what direkte serve runs; uvicorn-h11-nagle is "
        "uvicorn's own h11 protocol, which with --workers > 1 leaves Nagle's algorithm on: "
        "for comparison only)",
    )
    parser.add_argument(
        "--stacks",
        default=None,
        help="compare these stacks (comma-separated, 'all' for every one) on the bare "
        "endpoints, with the peer's bare Django view if bench/peer is set up; "
        "nothing else runs (bench/versus.py)",
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help="direkte against the peer helpdesk (bench/peer/setup.sh first): escalation "
        "create and bare endpoints against django-helpdesk's ticket create and a bare "
        "Django insert, interleaved (bench/versus.py)",
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
    if args.stacks or args.peer:
        import versus  # bench/versus.py: the stacks compared, and the peer helpdesk

        return versus.main(args)
    from direkte.config import normalize_database_url
    from direkte.demo.generator import DEMO_PASSWORD

    worker_counts = [int(w) for w in args.workers.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    db_url = normalize_database_url(f"{args.server}/{args.database}")
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
            "stack": args.stack,
            "targets": {key: target for key, _, _, target in RATIOS},
            "put_mix": "alternating: new external id (create) / existing visit (update)",
            "escalation_pool": {
                "margin": POOL_MARGIN,
                "min_rps": POOL_MIN_RPS,
                "customer_triples": CUSTOMER_TRIPLES,
                "runs": [],
            },
        },
        "runs": [],
        "preparation_problems": [],
    }
    pool: EscalationPool | None = None
    try:
        prepared = prepare_database(db_url)
        pool = prepared["pool"]
        print(
            f"bench: database ready in {prepared['setup_seconds']} s "
            f"(bench policy version {prepared['policy_version']}; inbox at center "
            f"{prepared['inbox_center']}, {prepared['inbox_manager']}, "
            f"{prepared['inbox_cases_before']} open cases before)",
            flush=True,
        )
        results["settings"]["bench_policy"] = {
            "version": prepared["policy_version"],
            "document": bench_policy_document(),
        }
        results["settings"]["inbox"] = {
            "center": prepared["inbox_center"],
            "manager": prepared["inbox_manager"],
            "cases": INBOX_CASES,
            "demo_cases": prepared["inbox_cases_before"],
            "earlier_visits_per_car": INBOX_EARLIER_VISITS,
        }
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
            paths = dict.fromkeys(SCENARIOS, "/") | {"bare_insert": "/bench/insert"}
            assert pool is not None
            escalation_pool = pool

            def escalation_script(seconds: int, tokens: dict[str, str], base: str) -> Path:
                """A script with pool visits made for this run, one slice per wrk thread."""
                take = escalation_pool.visits_for(seconds, args.threads)
                sizing = escalation_pool.sizing_rps()
                started = time.monotonic()
                chunk = escalation_pool.take(take)
                escalation_pool_runs = results["settings"]["escalation_pool"]["runs"]
                escalation_pool_runs.append(
                    {
                        "visits": take,
                        "triples": take * len(CATEGORIES),
                        "sized_for_rps": round(sizing),
                        "seconds_to_make": round(time.monotonic() - started, 2),
                        "cases_closed_so_far": escalation_pool.settled,
                    }
                )
                owners = sorted({visit["email"] for visit in chunk})
                for email in owners:
                    if email not in tokens:
                        tokens[email] = login(base, email, DEMO_PASSWORD)
                index = {email: i for i, email in enumerate(owners)}
                per_thread = take // args.threads
                slices = [
                    [
                        (index[v["email"]], v["visit_id"], v["subjects"])
                        for v in chunk[t * per_thread : (t + 1) * per_thread]
                    ]
                    for t in range(args.threads)
                ]
                script = tmpdir / f"create_escalation-{escalation_pool.visits_made}.lua"
                script.write_text(lua_create_escalation([tokens[e] for e in owners], slices))
                return script

            # Stages: every worker count before the past, then (the million past
            # cases added once) every worker count again for create_escalation_past,
            # so that no stage before the past runs on the bigger database.
            before_past = [s for s in scenarios if s != "create_escalation_past"]
            stages = [(w, False) for w in worker_counts if before_past]
            if "create_escalation_past" in scenarios:
                stages += [(w, True) for w in worker_counts]
            rounds_by_workers: dict[int, list[dict[str, dict[str, Any]]]] = {}
            problems_by_workers: dict[int, list[str]] = {}
            for workers, past_stage in stages:
                log_path = (
                    RESULTS / f"uvicorn-{stamp}-w{workers}{'-past' if past_stage else ''}.log"
                )
                if past_stage and "past" not in results["settings"]:
                    print(f"bench: adding {args.past:,} past escalations …", flush=True)
                    past = fill_past(db_url, args.past, prepared["escalation_customer_ids"])
                    results["settings"]["past"] = past
                    print(
                        f"bench: {past['escalations_in_table']:,} escalations in the "
                        f"table after {past['seconds']} s",
                        flush=True,
                    )
                print(f"bench: starting uvicorn with {workers} worker(s) …", flush=True)
                proc = start_server(db_url, workers, args.port, log_path, args.stack)
                database_cpu = DatabaseCpu(db_url)
                base = f"http://127.0.0.1:{args.port}"
                run_problems = problems_by_workers.setdefault(workers, [])
                try:
                    tokens: dict[str, str] = {}
                    pairs = []
                    for pair in prepared["get_pairs"]:
                        email = pair["email"]
                        if email not in tokens:
                            tokens[email] = login(base, email, DEMO_PASSWORD)
                        pairs.append((tokens[email], pair["visit_id"]))
                    (tmpdir / "get_visit.lua").write_text(lua_get_visit(pairs))
                    if "inbox" in scenarios and not past_stage:
                        manager_token = login(base, prepared["inbox_manager"], DEMO_PASSWORD)
                        (tmpdir / "inbox.lua").write_text(lua_inbox(manager_token))
                        need = INBOX_CASES - prepared["inbox_cases_before"]
                        if need > 0:
                            run_problems += fill_inbox(
                                base, pool, tokens, center=prepared["inbox_center"], need=need
                            )
                            prepared["inbox_cases_before"] = INBOX_CASES
                        run_problems += check_inbox(base, manager_token)
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
                        database_cpu: DatabaseCpu = database_cpu,
                    ) -> dict[str, Any]:
                        """One measured wrk run of a scenario (after a warm-up in round 1)."""
                        script = tmpdir / f"{name}.lua"
                        url = base + paths[name]
                        warmup = None
                        if args.warmup > 0 and round_no == 1:
                            if name in ESCALATION_SCENARIOS:
                                script = escalation_script(args.warmup, tokens, base)
                            warmup = run_wrk(
                                script,
                                url,
                                seconds=args.warmup,
                                tag=f"{stamp}w{workers}u",
                                **common,
                            )
                            if name in ESCALATION_SCENARIOS:
                                escalation_pool.rates.append(warmup["rps"])
                            wait_idle(proc.pid)
                        if name in ESCALATION_SCENARIOS:
                            script = escalation_script(args.duration, tokens, base)
                        spy = start_profile(proc, name, workers, args.duration, stamp, args)
                        cpu_before, sys_before = server_cpu_seconds(proc.pid)
                        db_before = database_cpu.seconds()
                        result = run_wrk(
                            script, url, seconds=args.duration, tag=f"{stamp}w{workers}m", **common
                        )
                        cpu_after, sys_after = server_cpu_seconds(proc.pid)
                        db_spent = database_cpu.spent(db_before, database_cpu.seconds())
                        if name in ESCALATION_SCENARIOS or name == "bare_insert":
                            escalation_pool.rates.append(result["rps"])
                        per_request = 1000 / max(result["requests"], 1)
                        result["server_cpu_ms"] = (cpu_after - cpu_before) * per_request
                        result["server_sys_ms"] = (sys_after - sys_before) * per_request
                        result["db_cpu_ms"] = db_spent * per_request
                        if spy is not None:
                            spy.wait()
                            result["profile"] = str(spy.args[-1])
                        if warmup is not None:
                            result["warmup"] = {k: warmup[k] for k in WARMUP_KEYS}
                        result["drain_s"] = round(wait_idle(proc.pid), 2)
                        bad = (
                            result["non2xx"]
                            + result["status_errors"]
                            + _errors(result)
                            + (warmup["non2xx"] + _errors(warmup) if warmup else 0)
                        )
                        print(
                            f"  round {round_no}  {name:<22} {result['rps']:>8.0f} req/s  "
                            f"p50 {result['p50_us'] / 1000:.1f} ms  "
                            f"p99 {result['p99_us'] / 1000:.1f} ms  "
                            f"cpu {result['server_cpu_ms']:.2f} ms/req "
                            f"(sys {result['server_sys_ms']:.2f})  "
                            f"db cpu {result['db_cpu_ms']:.2f} ms/req  non-2xx {result['non2xx']}"
                            + (
                                f"  unexpected 2xx {result['unexpected_2xx']}"
                                f"  exhausted {result['exhausted']}  held {result['held']}"
                                if name in ESCALATION_SCENARIOS
                                else ""
                            )
                            + ("  ** FAILED REQUESTS **" if bad else ""),
                            flush=True,
                        )
                        return result

                    # Rounds: every scenario once per round, so that a ratio compares
                    # runs minutes apart at most; each ratio is the median of its
                    # rounds' ratios (this machine's speed drifts 15-25 % between runs).
                    if not past_stage:
                        rounds_by_workers[workers] = [
                            {name: measure(name, round_no) for name in before_past}
                            for round_no in range(1, args.rounds + 1)
                        ]
                        if "inbox" in scenarios:
                            run_problems += check_inbox(base, manager_token)
                    else:
                        rounds = rounds_by_workers.setdefault(
                            workers, [{} for _ in range(args.rounds)]
                        )
                        for round_no, measured in enumerate(rounds, 1):
                            measured["create_escalation_past"] = measure(
                                "create_escalation_past", round_no
                            )
                finally:
                    database_cpu.close()
                    stop_server(proc)
            for workers in worker_counts:
                run = combine_rounds(workers, rounds_by_workers[workers])
                run["problems"] = problems_by_workers.get(workers, [])
                results["runs"].append(run)
        results["settings"]["escalation_pool"]["visits_made"] = pool.visits_made
        results["settings"]["escalation_pool"]["customers_added"] = pool.customers_added
    finally:
        if pool is not None:
            pool.close()
        if not args.keep_db:
            drop_database(args.server, args.database)

    problems = check(results)
    results["problems"] = problems
    if results["runs"]:
        table = render(results, problems)
        print("\n" + table)
        results["table"] = table
    out = RESULTS / f"http-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    shutil.copyfile(out, RESULTS / "latest.json")
    print(f"\nbench: results written to {out.relative_to(ROOT)}")
    if problems:
        print(
            f"bench: FAILED ({len(problems)} problem(s) above); no ratio reported", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
