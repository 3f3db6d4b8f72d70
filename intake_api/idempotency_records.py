"""How long an ``Idempotency-Key`` is remembered: a retry comes within minutes or hours of
its first try, so the records of older requests are pruned (``TIFLI_IDEMPOTENCY_KEY_HOURS``),
as Stripe forgets its keys after 24 hours. Kept for good, the table grew with every report
and sighting ever filed, and held each request's body hash until the case was erased."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.models import IdempotencyRecord

# Rows deleted per transaction: a deployment upgraded with years of records prunes them in
# short transactions, never one that holds the table's locks for minutes.
PRUNE_BATCH = 1_000


async def prune_idempotency_records(session: AsyncSession, before: datetime) -> int:
    """Deletes at most ``PRUNE_BATCH`` records of requests made before ``before``; how many.
    Another intake process pruning at the same time skips the rows this one holds (PostgreSQL)
    rather than waiting for them."""
    oldest = (
        select(IdempotencyRecord.key_id, IdempotencyRecord.idempotency_key)
        .where(IdempotencyRecord.created_at < before)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        delete(IdempotencyRecord).where(
            tuple_(IdempotencyRecord.key_id, IdempotencyRecord.idempotency_key).in_(oldest)
        )
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
