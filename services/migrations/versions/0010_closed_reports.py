"""closed reports: the alert engine remembers which cases closed

An approval or a renewal parked on the dead-letter topic and sent again after the case was
closed (the child found) could put an alert up: the engine kept no trace of a closing that
found no live alert. It now keeps one row per closed case.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "closed_reports",
        sa.Column("report_id", sa.String(36), primary_key=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("closed_reports")
