"""outbox notify trigger: PostgreSQL itself wakes the relay when outbox rows are inserted

Writers used to send ``NOTIFY tifli_outbox`` as a statement of their own, one more round trip
in every transaction that stages an event (an approval, an alert version), on the path of
every alert to its partners. A statement-level trigger sends the same notification from
inside the INSERT. NOTIFY is transactional either way: the relay hears it only once the rows
are committed, and several in one transaction fold into one. SQLite (embedded mode) has no
NOTIFY: its relay is woken in process.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel the relay listens on (shared.outbox.NOTIFY_CHANNEL), as of this revision.
_CHANNEL = "tifli_outbox"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION tifli_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{_CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION tifli_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS tifli_outbox_notify()")
