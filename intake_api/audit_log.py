"""Reading the audit log: one page of entries, and the check of the whole hash chain.

Entries are written by the use cases (``AuditEntry``, chained at insert by the model); this
module only reads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def _entries(session: AsyncSession) -> AsyncIterator[ChainedEntry]:
    # Keyset pages in chain order; memory stays flat however long the log is.
    after = 0
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(_VERIFY_BATCH)
            )
        ).all()
        for row in rows:
            yield ChainedEntry(
                id=row.id,
                seq=row.seq,
                at=row.at,
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
        session.expunge_all()


async def verify(session: AsyncSession) -> Verification:
    """Walks the whole chain; the first entry that does not hold, if any."""
    check = ChainCheck()
    async for entry in _entries(session):
        broken = check.check(entry)
        if broken is not None:
            return Verification(check.verified, broken)
    head = await session.get(AuditChainHead, HEAD_ID)
    if head is None:
        return Verification(check.verified, Break(None, 0, "the chain head is missing"))
    return Verification(check.verified, check.finish(Head(head.last_seq, head.last_hash)))
