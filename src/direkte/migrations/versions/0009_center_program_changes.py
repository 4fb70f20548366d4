"""center program changes: the history of each center's program state

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import direkte.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "center_program_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column(
            "program",
            sa.Enum(
                "off",
                "pilot",
                "on",
                name="program",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("changed_at", direkte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name=op.f("fk_center_program_changes_center_id_centers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_center_program_changes")),
    )
    op.create_index(
        op.f("ix_center_program_changes_center_id"),
        "center_program_changes",
        ["center_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_center_program_changes_changed_at"),
        "center_program_changes",
        ["changed_at"],
        unique=False,
    )
    op.create_index(
        "ix_center_program_changes_center_at",
        "center_program_changes",
        ["center_id", "changed_at"],
        unique=False,
    )
    # Every existing center has been in its current program since it was created: the
    # history before this table is not known, so that is the one honest row.
    op.execute(
        "INSERT INTO center_program_changes (center_id, program, changed_at, actor, reason) "
        "SELECT id, program, created_at, 'migration', "
        "'program state when the history began' FROM centers"
    )


def downgrade() -> None:
    op.drop_index("ix_center_program_changes_center_at", table_name="center_program_changes")
    op.drop_index(op.f("ix_center_program_changes_changed_at"), table_name="center_program_changes")
    op.drop_index(op.f("ix_center_program_changes_center_id"), table_name="center_program_changes")
    op.drop_table("center_program_changes")
