"""idempotent sightings: an Idempotency-Key on a sighting's POST names the sighting it added

A police system whose answer to a sighting was lost sends it again; without a key, that was a
second sighting of the child (a second Update to partners when trusted). The record of a key
now says which sighting it added; a report's key leaves it empty, as every row until now.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_records") as table:
        table.add_column(sa.Column("sighting_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as table:
        table.drop_column("sighting_id")
