"""Reading the audit log: one page of entries, and the check of the whole hash chain.

Entries are written by the use cases (``AuditEntry``, chained at insert by the model); this
module only reads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from intake_api.audit_chain import Break, ChainCheck, ChainedEntry, Head
from intake_api.audit_schemas import AuditEntryOut, AuditPage
from intake_api.models import HEAD_ID, AuditChainHead, AuditEntry
from shared.auth import ApiKey
from shared.paging import page_rows

_VERIFY_BATCH = 1000


async def page(
    session: AsyncSession,
    *,
    case_id: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> AuditPage:
    """Entries in the order they were written, optionally for one case and from a time on."""
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if case_id is not None:
        query = query.where(AuditEntry.report_id == case_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    rows, next_offset = await page_rows(session, query, limit, offset)
    names = await _key_names(session, {k for r in rows for k in (r.key_id, r.target_key_id) if k})
    return AuditPage(
        items=[
            AuditEntryOut(
                seq=row.seq,
                at=row.at,
                key_id=row.key_id,
                key_name=names.get(row.key_id),
                action=row.action,
                case_id=row.report_id,
                target_key_id=row.target_key_id,
                target_key_name=names.get(row.target_key_id) if row.target_key_id else None,
                prev_hash=row.prev_hash,
                entry_hash=row.entry_hash,
            )
            for row in rows
        ],
        next_offset=next_offset,
    )


async def _key_names(session: AsyncSession, key_ids: set[str]) -> dict[str, str]:
    """The names of the keys a page names, for a reader who knows keys by name (one query;
    the names are not in the chain, so a renamed key's entries still verify)."""
    if not key_ids:
        return {}
    found = await session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(key_ids)))
    return {key_id: name for key_id, name in found.all()}


@dataclass(frozen=True)
class Verification:
    verified: int  # entries that hold, up to the break if there is one
    broken: Break | None


# The time as stored, decoded row by row (``_stored_time``): a value that is not a time is a
# row tampered with, to report, where the column's own type would fail the whole read.
_RAW_AT = type_coerce(AuditEntry.at, NullType()).label("at")
_AT_TYPE = AuditEntry.__table__.c.at.type


def _time_reader(dialect: Dialect) -> Callable[[Any], datetime | None]:
    """Reads a stored ``at`` as the column's type does, or None when it is not a time."""
    decode = _AT_TYPE.dialect_impl(dialect).result_processor(dialect, None)

    def read(raw: Any) -> datetime | None:
        if raw is None or decode is None:
            return None
        try:
            decoded = decode(raw)
        except (ValueError, TypeError):  # text that is no date, a number (SQLite)
            return None
        return decoded if isinstance(decoded, datetime) else None

    return read


async def _entries(session: AsyncSession) -> AsyncIterator[ChainedEntry]:
    # Keyset pages in chain order; memory stays flat however long the log is.
    read_time = _time_reader(session.get_bind().dialect)
    columns = [c for c in AuditEntry.__table__.c if c.name != "at"]
    after = 0
    while True:
        rows = (
            await session.execute(
                select(*columns, _RAW_AT)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(_VERIFY_BATCH)
            )
        ).all()
        for row in rows:
            yield ChainedEntry(
                id=row.id,
                seq=row.seq,
                at=read_time(row.at),
                key_id=row.key_id,
                action=row.action,
                report_id=row.report_id,
                target_key_id=row.target_key_id,
                prev_hash=row.prev_hash,
                entry_hash=row.entry_hash,
            )
        if len(rows) < _VERIFY_BATCH:
            return
        after = rows[-1].seq


async def _renumbered(session: AsyncSession, check: ChainCheck, gap: Break) -> Break:
    """A gap in ``seq``, pointed at the row renumbered out of it when there is one: the row
    whose link is the last verified entry's hash stands in the chain right after it, whatever
    number it now bears. Otherwise the gap as found (the entry deleted)."""
    follower = (
        await session.execute(
            select(AuditEntry.id, AuditEntry.seq)
            .where(AuditEntry.prev_hash == check.last_hash, AuditEntry.seq != check.verified + 1)
            .order_by(AuditEntry.seq)
            .limit(1)
        )
    ).first()
    if follower is None:
        return gap
    return Break(
        follower.id,
        follower.seq,
        f"it links to the entry at seq {check.verified} but is numbered {follower.seq}, "
        f"not {check.verified + 1} (renumbered)",
    )


async def verify(session: AsyncSession) -> Verification:
    """Walks the whole chain; the first entry that does not hold, if any."""
    check = ChainCheck()
    async for entry in _entries(session):
        broken = check.check(entry)
        if broken is not None and entry.seq != check.verified + 1:
            return Verification(check.verified, await _renumbered(session, check, broken))
        if broken is not None:
            return Verification(check.verified, broken)
    head = await session.get(AuditChainHead, HEAD_ID)
    if head is None:
        return Verification(check.verified, Break(None, 0, "the chain head is missing"))
    return Verification(check.verified, check.finish(Head(head.last_seq, head.last_hash)))
