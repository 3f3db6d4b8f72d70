"""How long the engine remembers that a case closed (``models.ClosedReport``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from alert_engine.models import ClosedReport


async def prune_closed_reports(session: AsyncSession, before: datetime) -> int:
    """Cases closed before ``before``. Kept as long as the outbox keeps published events and
    the consumers their processed ids: an event older than that is never sent again."""
    result = await session.execute(delete(ClosedReport).where(ClosedReport.closed_at < before))
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
