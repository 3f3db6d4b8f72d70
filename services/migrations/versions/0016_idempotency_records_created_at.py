"""idempotency_records.created_at indexed: the records are pruned by age

An Idempotency-Key is now remembered for TIFLI_IDEMPOTENCY_KEY_HOURS (48 by default), and
the records of older requests are pruned a batch at a time; without an index on their time,
each batch would read the whole table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.create_index(
            batch.f("ix_idempotency_records_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_index(batch.f("ix_idempotency_records_created_at"))
