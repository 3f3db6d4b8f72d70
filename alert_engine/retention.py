"""How long the engine remembers that a case closed, or was renewed, corrected or sighted
before its alert (``models.ClosedReport``, ``models.EarlyRenewal``, ``models.EarlyChange``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from alert_engine.models import ClosedReport, EarlyChange, EarlyRenewal


async def prune_closed_reports(session: AsyncSession, before: datetime) -> int:
    """Cases closed before ``before``. Kept as long as the outbox keeps published events and
    the consumers their processed ids: an event older than that is never sent again."""
    result = await session.execute(delete(ClosedReport).where(ClosedReport.closed_at < before))
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


async def prune_early_renewals(session: AsyncSession, before: datetime) -> int:
    """Renewals made before ``before`` that found no alert: kept as long as the closed cases,
    for the same reason (the approval they wait for is never sent again after that)."""
    result = await session.execute(delete(EarlyRenewal).where(EarlyRenewal.renewed_at < before))
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


async def prune_early_changes(session: AsyncSession, before: datetime) -> int:
    """Corrections and sightings handled before ``before`` that found no alert: likewise."""
    result = await session.execute(delete(EarlyChange).where(EarlyChange.handled_at < before))
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
