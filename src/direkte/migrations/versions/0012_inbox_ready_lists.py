"""inbox ready lists: visit_lists and escalations.guardrail_shown, kept by triggers

The inbox's page read each visit's lists and cut each guardrail decision at every
request; PostgreSQL now keeps both at write time (escalations/inbox_lists.py). On
SQLite the table and the column exist and stay empty: its inbox reads the rows.

The functions' SQL is written here as it was when this revision was made (a migration
must not change with the code): ``tests/escalations/test_inbox_lists.py`` fails while
``escalations/inbox_lists.py`` differs from what the migrations install, so a change
there needs a new revision that installs it again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The functions' bodies (escalations/inbox_lists.py's function_bodies() at 0012).
BODIES = {
    "direkte_refresh_visit_lists": """
BEGIN
  PERFORM 1 FROM visits WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
  INSERT INTO visit_lists (visit_id, diagnoses, diagnosis_codes, estimates, warranty_decisions)
  WITH dx AS (
    SELECT d.visit_id, json_agg(json_build_object(
        'revision', d.seq, 'findings', d.findings, 'codes', d.codes,
        'safety_related', d.safety_related, 'created_at', replace(to_char(timezone('UTC', d.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || 'Z')
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
        'total', json_build_object('amount', round(e.total, coalesce((jsonb_object('{ADP,0,AFN,0,ALL,0,BHD,3,BIF,0,BYR,0,CLF,4,CLP,0,DJF,0,ESP,0,GNF,0,IQD,0,IRR,0,ISK,0,ITL,0,JOD,3,JPY,0,KMF,0,KPW,0,KRW,0,KWD,3,LAK,0,LBP,0,LUF,0,LYD,3,MGA,0,MGF,0,MMK,0,MRO,0,OMR,3,PYG,0,RSD,0,RWF,0,SLL,0,SOS,0,STD,0,SYP,0,TMM,0,TND,3,TRL,0,UGX,0,UYI,0,UYW,4,VND,0,VUV,0,XAF,0,XOF,0,XPF,0,YER,0,ZMK,0,ZWD,0}'::text[]) ->> e.currency)::int, 2))::text, 'currency', e.currency),
        'approved', e.approved_at IS NOT NULL,
        'change_from_first_approved', json_build_object('amount', round(k.change, coalesce((jsonb_object('{ADP,0,AFN,0,ALL,0,BHD,3,BIF,0,BYR,0,CLF,4,CLP,0,DJF,0,ESP,0,GNF,0,IQD,0,IRR,0,ISK,0,ITL,0,JOD,3,JPY,0,KMF,0,KPW,0,KRW,0,KWD,3,LAK,0,LBP,0,LUF,0,LYD,3,MGA,0,MGF,0,MMK,0,MRO,0,OMR,3,PYG,0,RSD,0,RWF,0,SLL,0,SOS,0,STD,0,SYP,0,TMM,0,TND,3,TRL,0,UGX,0,UYI,0,UYW,4,VND,0,VUV,0,XAF,0,XOF,0,XPF,0,YER,0,ZMK,0,ZWD,0}'::text[]) ->> e.currency)::int, 2))::text, 'currency', e.currency),
        'change_percent', CASE WHEN k.tenths IS NULL THEN NULL WHEN r.tenths = 0 AND k.tenths < 0 THEN '-0.0' ELSE to_char(r.tenths / 10, 'FM999999999999990.0') END)
        ORDER BY e.seq) AS estimates
    FROM estimates e JOIN bt ON bt.visit_id = e.visit_id
CROSS JOIN LATERAL (
  SELECT e.total - bt.total AS change, (e.total - bt.total) * 1000 / NULLIF(bt.total, 0) AS tenths
) k
CROSS JOIN LATERAL (
  SELECT CASE WHEN abs(k.tenths - trunc(k.tenths)) = 0.5
              THEN trunc(k.tenths) + CASE WHEN mod(trunc(k.tenths), 2) = 0 THEN 0
                                          ELSE sign(k.tenths) END
              ELSE round(k.tenths) END AS tenths
) r
    GROUP BY e.visit_id
  ),
  wd AS (
    SELECT w.visit_id, json_agg(json_build_object(
        'id', w.id, 'decision', w.decision,
        'claimed', json_build_object('amount', round(w.claimed, coalesce((jsonb_object('{ADP,0,AFN,0,ALL,0,BHD,3,BIF,0,BYR,0,CLF,4,CLP,0,DJF,0,ESP,0,GNF,0,IQD,0,IRR,0,ISK,0,ITL,0,JOD,3,JPY,0,KMF,0,KPW,0,KRW,0,KWD,3,LAK,0,LBP,0,LUF,0,LYD,3,MGA,0,MGF,0,MMK,0,MRO,0,OMR,3,PYG,0,RSD,0,RWF,0,SLL,0,SOS,0,STD,0,SYP,0,TMM,0,TND,3,TRL,0,UGX,0,UYI,0,UYW,4,VND,0,VUV,0,XAF,0,XOF,0,XPF,0,YER,0,ZMK,0,ZWD,0}'::text[]) ->> w.currency)::int, 2))::text, 'currency', w.currency),
        'covered', json_build_object('amount', round(w.covered, coalesce((jsonb_object('{ADP,0,AFN,0,ALL,0,BHD,3,BIF,0,BYR,0,CLF,4,CLP,0,DJF,0,ESP,0,GNF,0,IQD,0,IRR,0,ISK,0,ITL,0,JOD,3,JPY,0,KMF,0,KPW,0,KRW,0,KWD,3,LAK,0,LBP,0,LUF,0,LYD,3,MGA,0,MGF,0,MMK,0,MRO,0,OMR,3,PYG,0,RSD,0,RWF,0,SLL,0,SOS,0,STD,0,SYP,0,TMM,0,TND,3,TRL,0,UGX,0,UYI,0,UYW,4,VND,0,VUV,0,XAF,0,XOF,0,XPF,0,YER,0,ZMK,0,ZWD,0}'::text[]) ->> w.currency)::int, 2))::text, 'currency', w.currency),
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
""",
    "direkte_guardrail_shown": """
BEGIN
  NEW.guardrail_shown := json_build_object('decision', NEW.guardrail -> 'decision', 'tier', NEW.guardrail -> 'tier', 'policy_version', NEW.guardrail -> 'policy_version', 'rules', NEW.guardrail -> 'rules', 'explanation', NEW.guardrail -> 'explanation');
  RETURN NEW;
END
""",
    "direkte_visit_lists_on_insert": """
BEGIN
  PERFORM direkte_refresh_visit_lists(ARRAY(SELECT DISTINCT visit_id FROM (SELECT visit_id FROM new_rows) AS t
                                   WHERE visit_id IS NOT NULL ORDER BY 1));
  RETURN NULL;
END
""",
    "direkte_visit_lists_on_update": """
BEGIN
  PERFORM direkte_refresh_visit_lists(ARRAY(SELECT DISTINCT visit_id FROM (SELECT visit_id FROM new_rows UNION SELECT visit_id FROM old_rows) AS t
                                   WHERE visit_id IS NOT NULL ORDER BY 1));
  RETURN NULL;
END
""",
    "direkte_visit_lists_on_delete": """
BEGIN
  PERFORM direkte_refresh_visit_lists(ARRAY(SELECT DISTINCT visit_id FROM (SELECT visit_id FROM old_rows) AS t
                                   WHERE visit_id IS NOT NULL ORDER BY 1));
  RETURN NULL;
END
""",
}

# The functions and triggers, in order ({name} stands for its body).
INSTALL = [
    "CREATE OR REPLACE FUNCTION direkte_refresh_visit_lists(ids integer[]) RETURNS void LANGUAGE plpgsql AS $body${direkte_refresh_visit_lists}$body$",
    "CREATE OR REPLACE FUNCTION direkte_guardrail_shown() RETURNS trigger LANGUAGE plpgsql AS $body${direkte_guardrail_shown}$body$",
    "DROP TRIGGER IF EXISTS guardrail_shown ON escalations",
    "CREATE TRIGGER guardrail_shown BEFORE INSERT OR UPDATE OF guardrail ON escalations FOR EACH ROW EXECUTE FUNCTION direkte_guardrail_shown()",
    "CREATE OR REPLACE FUNCTION direkte_visit_lists_on_insert() RETURNS trigger LANGUAGE plpgsql AS $body${direkte_visit_lists_on_insert}$body$",
    "DROP TRIGGER IF EXISTS visit_lists_on_insert ON diagnoses",
    "CREATE TRIGGER visit_lists_on_insert AFTER INSERT ON diagnoses REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_insert()",
    "DROP TRIGGER IF EXISTS visit_lists_on_insert ON estimates",
    "CREATE TRIGGER visit_lists_on_insert AFTER INSERT ON estimates REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_insert()",
    "DROP TRIGGER IF EXISTS visit_lists_on_insert ON warranty_decisions",
    "CREATE TRIGGER visit_lists_on_insert AFTER INSERT ON warranty_decisions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_insert()",
    "CREATE OR REPLACE FUNCTION direkte_visit_lists_on_update() RETURNS trigger LANGUAGE plpgsql AS $body${direkte_visit_lists_on_update}$body$",
    "DROP TRIGGER IF EXISTS visit_lists_on_update ON diagnoses",
    "CREATE TRIGGER visit_lists_on_update AFTER UPDATE ON diagnoses REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_update()",
    "DROP TRIGGER IF EXISTS visit_lists_on_update ON estimates",
    "CREATE TRIGGER visit_lists_on_update AFTER UPDATE ON estimates REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_update()",
    "DROP TRIGGER IF EXISTS visit_lists_on_update ON warranty_decisions",
    "CREATE TRIGGER visit_lists_on_update AFTER UPDATE ON warranty_decisions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_update()",
    "CREATE OR REPLACE FUNCTION direkte_visit_lists_on_delete() RETURNS trigger LANGUAGE plpgsql AS $body${direkte_visit_lists_on_delete}$body$",
    "DROP TRIGGER IF EXISTS visit_lists_on_delete ON diagnoses",
    "CREATE TRIGGER visit_lists_on_delete AFTER DELETE ON diagnoses REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_delete()",
    "DROP TRIGGER IF EXISTS visit_lists_on_delete ON estimates",
    "CREATE TRIGGER visit_lists_on_delete AFTER DELETE ON estimates REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_delete()",
    "DROP TRIGGER IF EXISTS visit_lists_on_delete ON warranty_decisions",
    "CREATE TRIGGER visit_lists_on_delete AFTER DELETE ON warranty_decisions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION direkte_visit_lists_on_delete()",
]

DROP = [
    "DROP TRIGGER IF EXISTS guardrail_shown ON escalations",
    "DROP TRIGGER IF EXISTS visit_lists_on_insert ON diagnoses",
    "DROP TRIGGER IF EXISTS visit_lists_on_insert ON estimates",
    "DROP TRIGGER IF EXISTS visit_lists_on_insert ON warranty_decisions",
    "DROP TRIGGER IF EXISTS visit_lists_on_update ON diagnoses",
    "DROP TRIGGER IF EXISTS visit_lists_on_update ON estimates",
    "DROP TRIGGER IF EXISTS visit_lists_on_update ON warranty_decisions",
    "DROP TRIGGER IF EXISTS visit_lists_on_delete ON diagnoses",
    "DROP TRIGGER IF EXISTS visit_lists_on_delete ON estimates",
    "DROP TRIGGER IF EXISTS visit_lists_on_delete ON warranty_decisions",
    "DROP FUNCTION IF EXISTS direkte_refresh_visit_lists",
    "DROP FUNCTION IF EXISTS direkte_guardrail_shown",
    "DROP FUNCTION IF EXISTS direkte_visit_lists_on_insert",
    "DROP FUNCTION IF EXISTS direkte_visit_lists_on_update",
    "DROP FUNCTION IF EXISTS direkte_visit_lists_on_delete",
]

# Lists for every visit with any, and every decision's shown form.
BACKFILL = [
    "SELECT direkte_refresh_visit_lists(ARRAY(SELECT DISTINCT visit_id FROM (SELECT visit_id FROM diagnoses UNION SELECT visit_id FROM estimates UNION SELECT visit_id FROM warranty_decisions) AS t ORDER BY 1))",
    "UPDATE escalations SET guardrail = guardrail",
]


def upgrade() -> None:
    op.create_table(
        "visit_lists",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("diagnoses", sa.JSON(), nullable=True),
        sa.Column("diagnosis_codes", sa.JSON(), nullable=True),
        sa.Column("estimates", sa.JSON(), nullable=True),
        sa.Column("warranty_decisions", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_visit_lists_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_visit_lists")),
    )
    # A plain ALTER TABLE on both databases (SQLite's batch mode would copy the table,
    # which its foreign keys refuse once rows point at it).
    op.add_column("escalations", sa.Column("guardrail_shown", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in INSTALL:
            op.execute(_filled(statement))
        for statement in BACKFILL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP:
            op.execute(statement)
    op.drop_column("escalations", "guardrail_shown")
    op.drop_table("visit_lists")


def _filled(statement: str) -> str:
    """A statement of INSTALL with its function's body in place of ``{name}``."""
    for name, body in BODIES.items():
        statement = statement.replace("{" + name + "}", body)
    return statement
