"""partner pauses: a partner's Retry-After holds back all its deliveries

A partner that answered 429 (too many requests) or 503 with a Retry-After had only that
delivery wait; its other deliveries kept going, so a partner limited to 4 requests a second
still got 6.5 in a burst. The partner row now keeps until when it asked to be left alone, and
no dispatcher sends it anything before then.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("throttled_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("unavailable_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("unavailable_until")
        batch.drop_column("throttled_until")
