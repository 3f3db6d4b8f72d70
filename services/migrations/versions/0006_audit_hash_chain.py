"""audit hash chain: each audit entry carries its place in the chain, the previous entry's
hash and its own; a one-row head records the last of them

Existing entries are chained in the order they were written (``id``), from the genesis hash,
so ``tifli audit verify`` covers them too: it vouches for them from this upgrade on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from intake_api.audit_chain import GENESIS_HASH, entry_hash
from shared.db import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger()),
    sa.column("at", UtcDateTime()),
    sa.column("key_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("report_id", sa.String()),
    sa.column("target_key_id", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)
_head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("last_seq", sa.BigInteger()),
    sa.column("last_hash", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.select(_audit_log).order_by(_audit_log.c.id)).all()
    last_hash = GENESIS_HASH
    for seq, row in enumerate(rows, start=1):
        digest = entry_hash(
            seq=seq,
            at=row.at,
            key_id=row.key_id,
            action=row.action,
            report_id=row.report_id,
            target_key_id=row.target_key_id,
            prev_hash=last_hash,
        )
        connection.execute(
            sa.update(_audit_log)
            .where(_audit_log.c.id == row.id)
            .values(seq=seq, prev_hash=last_hash, entry_hash=digest)
        )
        last_hash = digest
    connection.execute(sa.insert(_head).values(id=1, last_seq=len(rows), last_hash=last_hash))

    # An entry written without the chain (a bulk insert that skips the model) must fail, not
    # pass unchained.
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_log_seq"), ["seq"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_log_seq"), type_="unique")
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    op.drop_table("audit_chain_head")
