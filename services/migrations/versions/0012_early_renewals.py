"""early renewals: the alert engine remembers a renewal that came before its case's alert

An approval parked on the dead-letter topic, then a renewal of its case: the renewal found no
alert and was dropped, and the approval, sent again after the first window but within the
renewed one, put no alert up while intake showed the case live. The engine now keeps the
renewed window of a case that has no alert yet.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_renewals",
        sa.Column("report_id", sa.String(36), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("early_renewals")
