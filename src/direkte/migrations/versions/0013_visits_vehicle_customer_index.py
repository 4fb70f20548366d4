"""visits: ix_visits_vehicle_id widened to (vehicle_id, customer_id, id)

The inbox page reads each case's earlier visits (the same customer's visits of the
car, newest first, at most ten) by a LATERAL subquery with LIMIT. On the vehicle's
index alone it read all of the car's visits and sorted them, for every case of the
page: a fleet car with a long history cost the page most of its time. The widened
index gives the customer's visits of the car newest first, and still serves every
look-up by vehicle alone, so the table keeps as many indexes as before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visits_vehicle_customer_id", "visits", ["vehicle_id", "customer_id", "id"], unique=False
    )
    op.drop_index("ix_visits_vehicle_id", table_name="visits")


def downgrade() -> None:
    op.create_index("ix_visits_vehicle_id", "visits", ["vehicle_id"], unique=False)
    op.drop_index("ix_visits_vehicle_customer_id", table_name="visits")
