"""early changes: the alert engine keeps corrections and sightings that came before its
case's alert

An approval parked on the dead-letter topic, then a correction of the child's description or
a trusted sighting: each found no alert and was dropped, and the approval, sent again, put
the alert up with the description since put right and without the places the child was seen
since. The engine now keeps them for the approval, which applies and deletes them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.String(36), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.Column("sighting", sa.Text(), nullable=True),
    )
    op.create_index("ix_early_changes_report_id", "early_changes", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_early_changes_report_id", table_name="early_changes")
    op.drop_table("early_changes")
