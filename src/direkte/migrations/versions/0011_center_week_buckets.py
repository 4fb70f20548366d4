"""center_week_buckets: the day histograms summed per center and Monday-week

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "center_week_buckets",
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_center_week_buckets_center_id_centers")
        ),
        sa.PrimaryKeyConstraint(
            "center_id", "week", "kind", "key", name=op.f("pk_center_week_buckets")
        ),
    )
    op.create_index("ix_center_week_buckets_week", "center_week_buckets", ["week"], unique=False)
    # The weeks of the day buckets already kept.
    if op.get_bind().dialect.name == "postgresql":
        week = "CAST(day - CAST(EXTRACT(isodow FROM day) AS INTEGER) + 1 AS DATE)"
    else:
        week = "date(day, '-' || CAST((CAST(strftime('%w', day) AS INTEGER) + 6) % 7 AS TEXT) || ' days')"
    op.execute(
        "INSERT INTO center_week_buckets (center_id, week, kind, key, n)"
        f" SELECT center_id, {week}, kind, key, SUM(n) FROM center_day_buckets"
        f" GROUP BY center_id, {week}, kind, key"
    )


def downgrade() -> None:
    op.drop_index("ix_center_week_buckets_week", table_name="center_week_buckets")
    op.drop_table("center_week_buckets")
