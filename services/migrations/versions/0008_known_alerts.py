"""known alerts: the dispatcher keeps the newest version of each alert that is up

A partner that becomes active (registered, or verified again after being disabled) is sent the
alerts already up in its coverage, from this table. Alerts up during the upgrade enter it with
their next version (a widening, a sighting, a renewal); until then, as before, a partner
registered meanwhile gets them from that version on. An alert taken down keeps its row
without its event (no child data): a late, older version cannot bring it back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_alerts",
        sa.Column("alert_id", sa.String(36), primary_key=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("event", sa.Text(), nullable=True),
        sa.Column("cap_url", sa.Text(), nullable=True),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("known_alerts")
