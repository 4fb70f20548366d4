"""A visit's lists as the inbox shows them, kept ready by PostgreSQL at write time.

An inbox page shows, per case, its visit's diagnoses, diagnosis codes, estimates (with
their change from the baseline) and warranty decisions. Built at read time they were
a third of the page's database time, for lists that change a few times in a visit's
life and are read on every page of every manager. On PostgreSQL, triggers keep them in
``visit_lists`` (one row per visit with any), built by the same SQL the page used:

* every statement that inserts, updates or deletes rows of ``diagnoses``, ``estimates``
  or ``warranty_decisions`` rebuilds the lists of the visits it touched, in its own
  transaction (so a rolled-back change leaves the lists as they were);
* the rebuild first locks those visits' rows (``FOR NO KEY UPDATE``, which the
  revisions' writers take already, and which does not wait for the foreign keys' share
  locks), then reads in a statement of its own: under READ COMMITTED that statement
  sees every change committed by a writer it waited for, and a writer that changes the
  lists after it waits in turn and rebuilds them again. The lists are never older than
  the last committed change.
* a guardrail decision's form shown to staff (``GuardrailOut``'s fields, in order) is
  kept beside it in ``escalations.guardrail_shown`` by a row trigger, so that the page
  passes it through instead of parsing ~2 KB per item.

SQLite keeps no lists (its inbox is built from rows in Python) and has the table empty.
The SQL below is the page's own (``inbox_sql``'s helpers); migration 0012 installs it,
as literal text written from these functions. Changing it needs a new migration that
installs it again (written from ``install_statements`` and the others):
``tests/escalations/test_inbox_lists.py`` fails while the newest such migration's
statements, or the database's functions, differ from this module's.
"""

from __future__ import annotations

from direkte.escalations.inbox_sql import ESTIMATE_CHANGE, PERCENT, money, utc_time
from direkte.escalations.schemas import GUARDRAIL_FIELDS

LIST_TABLES = ("diagnoses", "estimates", "warranty_decisions")

REFRESH_FUNCTION = "direkte_refresh_visit_lists"
GUARDRAIL_FUNCTION = "direkte_guardrail_shown"


def refresh_body() -> str:
    """The body of ``direkte_refresh_visit_lists(ids integer[])``."""
    return f"""
BEGIN
  PERFORM 1 FROM visits WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
  INSERT INTO visit_lists (visit_id, diagnoses, diagnosis_codes, estimates, warranty_decisions)
  WITH dx AS (
    SELECT d.visit_id, json_agg(json_build_object(
        'revision', d.seq, 'findings', d.findings, 'codes', d.codes,
        'safety_related', d.safety_related, 'created_at', {utc_time("d.created_at")})
        ORDER BY d.seq) AS diagnoses
    FROM diagnoses d WHERE d.visit_id = ANY(ids) GROUP BY d.visit_id
  ),
  codes AS (
    SELECT d.visit_id,
           json_agg(DISTINCT code.value COLLATE "C" ORDER BY code.value COLLATE "C") AS codes
    FROM diagnoses d, json_array_elements_text(d.codes::json) AS code(value)
    WHERE d.visit_id = ANY(ids) GROUP BY d.visit_id
  ),
  bt AS (
    SELECT DISTINCT ON (b.visit_id) b.visit_id, b.total FROM estimates b
    WHERE b.visit_id = ANY(ids)
    ORDER BY b.visit_id, b.approved_at IS NULL, b.seq
  ),
  es AS (
    SELECT e.visit_id, json_agg(json_build_object(
        'revision', e.seq,
        'total', {money("e.total", "e.currency")},
        'approved', e.approved_at IS NOT NULL,
        'change_from_first_approved', {money("k.change", "e.currency")},
        'change_percent', {PERCENT})
        ORDER BY e.seq) AS estimates
    FROM estimates e JOIN bt ON bt.visit_id = e.visit_id{ESTIMATE_CHANGE}
    GROUP BY e.visit_id
  ),
  wd AS (
    SELECT w.visit_id, json_agg(json_build_object(
        'id', w.id, 'decision', w.decision,
        'claimed', {money("w.claimed", "w.currency")},
        'covered', {money("w.covered", "w.currency")},
        'reason_code', w.reason_code, 'safety_related', w.safety_related)
        ORDER BY w.seq) AS warranty_decisions
    FROM warranty_decisions w WHERE w.visit_id = ANY(ids) GROUP BY w.visit_id
  )
  SELECT v.id, dx.diagnoses, codes.codes, es.estimates, wd.warranty_decisions
  FROM visits v
  LEFT JOIN dx ON dx.visit_id = v.id
  LEFT JOIN codes ON codes.visit_id = v.id
  LEFT JOIN es ON es.visit_id = v.id
  LEFT JOIN wd ON wd.visit_id = v.id
  WHERE v.id = ANY(ids)
  ON CONFLICT (visit_id) DO UPDATE SET
    diagnoses = EXCLUDED.diagnoses, diagnosis_codes = EXCLUDED.diagnosis_codes,
    estimates = EXCLUDED.estimates, warranty_decisions = EXCLUDED.warranty_decisions;
END
"""


def guardrail_body() -> str:
    """The body of the row trigger function keeping ``escalations.guardrail_shown``."""
    fields = ", ".join(f"'{name}', NEW.guardrail -> '{name}'" for name in GUARDRAIL_FIELDS)
    return f"""
BEGIN
  NEW.guardrail_shown := json_build_object({fields});
  RETURN NEW;
END
"""


# Per event, the transition tables whose visits are rebuilt.
_EVENTS = {
    "insert": ("REFERENCING NEW TABLE AS new_rows", "SELECT visit_id FROM new_rows"),
    "update": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT visit_id FROM new_rows UNION SELECT visit_id FROM old_rows",
    ),
    "delete": ("REFERENCING OLD TABLE AS old_rows", "SELECT visit_id FROM old_rows"),
}


def _changed_function(event: str) -> str:
    return f"direkte_visit_lists_on_{event}"


def _changed_body(event: str) -> str:
    visits = _EVENTS[event][1]
    return f"""
BEGIN
  PERFORM {REFRESH_FUNCTION}(ARRAY(SELECT DISTINCT visit_id FROM ({visits}) AS t
                                   WHERE visit_id IS NOT NULL ORDER BY 1));
  RETURN NULL;
END
"""


def function_bodies() -> dict[str, str]:
    """Each installed function's name and body (``pg_proc.prosrc``)."""
    bodies = {REFRESH_FUNCTION: refresh_body(), GUARDRAIL_FUNCTION: guardrail_body()}
    bodies.update({_changed_function(event): _changed_body(event) for event in _EVENTS})
    return bodies


def install_statements() -> list[str]:
    """The functions and triggers, created or replaced (PostgreSQL)."""
    statements = [
        f"CREATE OR REPLACE FUNCTION {REFRESH_FUNCTION}(ids integer[]) RETURNS void "
        f"LANGUAGE plpgsql AS $body${refresh_body()}$body$",
        f"CREATE OR REPLACE FUNCTION {GUARDRAIL_FUNCTION}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body${guardrail_body()}$body$",
        "DROP TRIGGER IF EXISTS guardrail_shown ON escalations",
        "CREATE TRIGGER guardrail_shown BEFORE INSERT OR UPDATE OF guardrail ON escalations "
        f"FOR EACH ROW EXECUTE FUNCTION {GUARDRAIL_FUNCTION}()",
    ]
    for event, (referencing, _) in _EVENTS.items():
        statements.append(
            f"CREATE OR REPLACE FUNCTION {_changed_function(event)}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $body${_changed_body(event)}$body$"
        )
        for table in LIST_TABLES:
            trigger = f"visit_lists_on_{event}"
            statements += [
                f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
                f"CREATE TRIGGER {trigger} AFTER {event.upper()} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {_changed_function(event)}()",
            ]
    return statements


def drop_statements() -> list[str]:
    """The triggers and functions, dropped (PostgreSQL)."""
    statements = ["DROP TRIGGER IF EXISTS guardrail_shown ON escalations"]
    for event in _EVENTS:
        statements += [f"DROP TRIGGER IF EXISTS visit_lists_on_{event} ON {t}" for t in LIST_TABLES]
    statements += [f"DROP FUNCTION IF EXISTS {name}" for name in function_bodies()]
    return statements


def backfill_statements() -> list[str]:
    """Lists for every visit with any, and every decision's shown form (PostgreSQL)."""
    return [
        f"SELECT {REFRESH_FUNCTION}(ARRAY(SELECT DISTINCT visit_id FROM ("
        + " UNION ".join(f"SELECT visit_id FROM {t}" for t in LIST_TABLES)
        + ") AS t ORDER BY 1))",
        "UPDATE escalations SET guardrail = guardrail",
    ]
