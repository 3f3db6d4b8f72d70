"""units: keys and cases belong to a unit or are national; keys expire and record their use;
the audit log records acts on keys

Existing keys become **national** (``unit`` NULL): they keep seeing and acting on every case,
so a deployment upgraded in place works as before until its operator creates unit keys.
Existing cases stay national too (``unit`` NULL, seen by national keys only): their
``submitted_by.unit`` was free text and names no managed unit. Existing keys never expire
(``expires_at`` NULL) and show no last use until their next request.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_units")),
    )
    # Batch mode: SQLite cannot add a foreign key or change nullability in place.
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_unit_units"), "units", ["unit"], ["code"]
        )
    with op.batch_alter_table("reports") as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_reports_unit"), ["unit"], unique=False)
    with op.batch_alter_table("sightings") as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=32), nullable=True))
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.add_column(sa.Column("target_key_id", sa.String(length=16), nullable=True))
        batch_op.alter_column("report_id", existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    # Entries about keys have no case: they cannot survive a NOT NULL report_id.
    op.execute("DELETE FROM audit_log WHERE report_id IS NULL")
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.alter_column("report_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column("target_key_id")
    with op.batch_alter_table("sightings") as batch_op:
        batch_op.drop_column("unit")
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_unit"))
        batch_op.drop_column("unit")
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_keys_unit_units"), type_="foreignkey")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("unit")
    op.drop_table("units")
