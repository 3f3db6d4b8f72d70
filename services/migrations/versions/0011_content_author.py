"""content authors: the keys that wrote what partners show of a case

Four eyes compared the approving key with the submitting one only: a reviewer could rewrite
the child's description and photos and approve them alone. The case now keeps every key that
changed what partners show since its submission (space-separated ids; NULL: none but its
submitter).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("content_by_keys", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("content_by_keys")
