"""``tifli data-key rotate``: every sealed value re-sealed with the newest data key.

After it, the keys after the first in ``TIFLI_DATA_KEY`` open nothing stored, and the
operator may drop them. It goes through each table in primary-key order, a batch per
transaction, its rows locked (``FOR UPDATE`` on PostgreSQL) so a concurrent write to a row is
neither lost nor overwritten with stale content. Running it twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Partner
from intake_api.models import Report
from shared.sealing import SealedValueError, Sealer


@dataclass(frozen=True)
class SealedColumns:
    table: Table
    columns: tuple[str, ...]


# Every column holding values sealed with the data key.
SEALED: tuple[SealedColumns, ...] = (
    SealedColumns(Report.__table__, ("sealed_data", "status_reason")),  # type: ignore[arg-type]
    SealedColumns(Partner.__table__, ("verify_token", "secret", "previous_secret")),  # type: ignore[arg-type]
)


async def rotate(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, *, batch_size: int = 500
) -> dict[str, int]:
    """Values re-sealed, per table. Raises ``SealedValueError`` on a value no configured key
    opens, naming where it stopped: nothing is skipped silently (batches already done stay
    done, and a second run after the key is restored goes through them again harmlessly)."""
    counts: dict[str, int] = {}
    for sealed in SEALED:
        counts[sealed.table.name] = await _rotate_table(sessions, sealer, sealed, batch_size)
    return counts


def _stopped_at(table: str, column: str, row_id: object, done: int) -> SealedValueError:
    return SealedValueError(
        f"the rotation stopped at {table} row {row_id}: its {column} opens with none of the "
        f"keys in TIFLI_DATA_KEY ({done} value(s) of {table} re-sealed before it stay so; "
        "run it again once the key that sealed it is back in TIFLI_DATA_KEY)"
    )


async def _rotate_table(
    sessions: async_sessionmaker[AsyncSession],
    sealer: Sealer,
    sealed: SealedColumns,
    batch_size: int,
) -> int:
    table = sealed.table
    key: Column[str] = table.c.id
    columns = [table.c[name] for name in sealed.columns]
    after: str | None = None
    count = 0
    while True:
        query = select(key, *columns).order_by(key).limit(batch_size).with_for_update()
        if after is not None:
            query = query.where(key > after)
        async with sessions() as session, session.begin():
            rows = (await session.execute(query)).all()
            # A value no key opens rolls back its batch: only the batches before it stay done.
            committed = count
            for row in rows:
                values = {}
                for name, value in zip(sealed.columns, row[1:], strict=True):
                    if not value:
                        continue  # "" is an erased report's blob: nothing to re-seal
                    try:
                        values[name] = sealer.reseal(value)
                    except SealedValueError:
                        raise _stopped_at(table.name, name, row[0], committed) from None
                if values:
                    await session.execute(update(table).where(key == row[0]).values(**values))
                    count += len(values)
        if len(rows) < batch_size:
            return count
        after = rows[-1][0]
