"""How writes to many deliveries at once stay clear of each other on PostgreSQL.

Two kinds of transaction lock delivery rows and wait for them: the attempt recorder (the
rows it records, in id order) and a partner's verification (``catch_up.owed_again``: its
versions, in id order too); a replay waits for its one row. Locked in one order, they never
wait on each other in a circle.
Every other write to many rows at once (the claim's, planning's, the sweep's, a partner's
retries brought forward) skips the rows another transaction holds: they are being claimed,
recorded or decided on, and are settled there, or at the next pass. A writer that never
waits cannot close a circle of waits: no deadlock, whatever order it meets the rows in.
(SQLite runs one writing transaction at a time: nothing to skip there.)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.models import Delivery


def free_rows(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Matches the deliveries meeting ``conditions`` that no other transaction holds; those
    it matches are locked as they are read (for an UPDATE of them)."""
    held_skipped = (
        select(Delivery.id).where(*conditions).with_for_update(skip_locked=True).correlate(None)
    )
    return Delivery.id.in_(held_skipped)
