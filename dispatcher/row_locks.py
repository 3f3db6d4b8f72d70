"""How writes to many deliveries at once stay clear of each other on PostgreSQL.

Two kinds of transaction lock delivery rows and wait for them: the attempt recorder (the
rows it records, in id order) and a partner's verification (``catch_up.owed_again``: its
versions, in id order too); a replay waits for its one row. Locked in one order, they never
wait on each other in a circle.
Every other write to many rows at once (the claim's, planning's, the sweep's, a partner's
retries brought forward) skips the rows another transaction holds: they are being claimed,
recorded or decided on, and are settled there, or at the next pass. A writer that never
waits cannot close a circle of waits: no deadlock, whatever order it meets the rows in.
A partner's row is written the same way: the recorder locks the rows of the partners its
answers pause or disable before their deliveries, as a verification does (``pauses``).
(SQLite runs one writing transaction at a time: nothing to skip there.)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.models import Delivery


def free_rows(
    *conditions: ColumnElement[bool], key: InstrumentedAttribute[str] = Delivery.id
) -> ColumnElement[bool]:
    """Matches the rows meeting ``conditions`` that no other transaction holds (deliveries,
    or the table whose primary ``key`` is given); those it matches are locked as they are
    read (for an UPDATE of them)."""
    # Locked as the UPDATE itself would (no key of them is written): a row that only a
    # foreign key's check holds (a delivery being planned for a partner, an attempt being
    # recorded for a delivery) is not skipped.
    held_skipped = (
        select(key)
        .where(*conditions)
        .with_for_update(skip_locked=True, key_share=True)
        .correlate(None)
    )
    return key.in_(held_skipped)
