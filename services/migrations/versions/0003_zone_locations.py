"""zone as a union: the alert's trusted locations; a sighting's direction of travel

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no back-fill: the engine reads NULL as "the centre is the only location".
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(sa.Column("locations", sa.Text(), nullable=True))
    with op.batch_alter_table("sightings") as batch_op:
        batch_op.add_column(sa.Column("heading_deg", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("destination_lat", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("destination_lon", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("destination_place_name", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sightings") as batch_op:
        batch_op.drop_column("destination_place_name")
        batch_op.drop_column("destination_lon")
        batch_op.drop_column("destination_lat")
        batch_op.drop_column("heading_deg")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_column("locations")
