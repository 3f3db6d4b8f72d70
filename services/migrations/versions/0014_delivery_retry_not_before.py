"""delivery retry_not_before: a partner's throttle outlasts its other deliveries' success

A partner that answered 429 with a Retry-After had that delivery sent again as soon as any
other of its deliveries was accepted: a burst answering a throttle. The delivery now keeps
until when the partner asked to wait, and is not brought forward before it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("retry_not_before", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("retry_not_before")
