"""partner secrets sealed at rest; reports record when their personal data was erased

Existing partners' verify tokens and signing secrets are sealed with the data key, which the
caller passes in (``services.database.upgrade``): a deployment with partners and no key stops
here with a message saying so; one with no partners needs no key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from shared.sealing import Sealer

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALED = ("verify_token", "secret", "previous_secret")


def _convert_partners(convert: Callable[[Sealer, str], str]) -> None:
    bind = op.get_bind()
    query = sa.text("SELECT id, verify_token, secret, previous_secret FROM partners")
    rows = list(bind.execute(query))
    if not rows:
        return
    key = context.config.attributes.get("data_key")
    if not key:
        raise RuntimeError(
            f"{len(rows)} partner(s) hold signing secrets to be sealed at rest: set "
            "TIFLI_DATA_KEY (a Fernet key) and run `tifli db upgrade` again"
        )
    sealer = Sealer(key)
    for row in rows:
        values = {
            column: None if value is None else convert(sealer, value)
            for column, value in zip(_SEALED, row[1:], strict=True)
        }
        bind.execute(
            sa.text(
                "UPDATE partners SET verify_token = :verify_token, secret = :secret, "
                "previous_secret = :previous_secret WHERE id = :id"
            ),
            {"id": row[0], **values},
        )


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch_op:
        for column, length in (("verify_token", 200), ("secret", 100), ("previous_secret", 100)):
            batch_op.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text())
    _convert_partners(lambda sealer, value: sealer.seal_text(value))
    with op.batch_alter_table("reports") as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_column("erased_at")
    _convert_partners(lambda sealer, value: sealer.unseal_text(value))
    with op.batch_alter_table("partners") as batch_op:
        for column, length in (("verify_token", 200), ("secret", 100), ("previous_secret", 100)):
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length))
