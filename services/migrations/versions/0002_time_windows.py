"""time windows: alert widening timers, report expiry

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(sa.Column("next_widen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_alerts_next_widen_at", ["next_widen_at"], unique=False)
        batch_op.create_index("ix_alerts_expires", ["expires"], unique=False)
    with op.batch_alter_table("reports") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_index("ix_alerts_expires")
        batch_op.drop_index("ix_alerts_next_widen_at")
        batch_op.drop_column("next_widen_at")
