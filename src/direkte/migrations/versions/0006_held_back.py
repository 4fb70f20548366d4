"""held back: a case the guardrails held and ops never released stays hidden from staff

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_back", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Cases held or rejected before this column existed were never released.
    op.execute("UPDATE escalations SET held_back = true WHERE status IN ('held', 'rejected')")


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("held_back")
