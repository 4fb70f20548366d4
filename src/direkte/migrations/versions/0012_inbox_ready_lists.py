"""inbox ready lists: visit_lists and escalations.guardrail_shown, kept by triggers

The inbox's page read each visit's lists and cut each guardrail decision at every
request; PostgreSQL now keeps both at write time (escalations/inbox_lists.py). On
SQLite the table and the column exist and stay empty: its inbox reads the rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from direkte.escalations import inbox_lists

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("guardrail_shown", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in inbox_lists.install_statements() + inbox_lists.backfill_statements():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in inbox_lists.drop_statements():
            op.execute(statement)
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("guardrail_shown")
    op.drop_table("visit_lists")
