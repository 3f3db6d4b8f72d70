"""How long the attempts log keeps what happened to finished deliveries, and the dispatcher
which alerts it has seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.models import Delivery, DeliveryAttempt, KnownAlert

FINISHED = ("delivered", "dead", "superseded")


async def prune_attempts(session: AsyncSession, before: datetime) -> int:
    """Attempts older than ``before`` of deliveries that are finished. A delivery still owed
    keeps its whole history; the delivery rows themselves stay (replay needs them)."""
    # Correlated on the deliveries' primary key: one index probe per old attempt.
    finished = exists().where(
        Delivery.id == DeliveryAttempt.delivery_id, Delivery.status.in_(FINISHED)
    )
    result = await session.execute(
        delete(DeliveryAttempt).where(DeliveryAttempt.at < before, finished)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


async def prune_known_alerts(session: AsyncSession, before: datetime) -> int:
    """Alerts that ended before ``before`` (``KnownAlert``). Their row stops an older version
    coming late from bringing one back; kept as long as the outbox keeps published events and
    the consumers their processed ids, no version of it can come again after."""
    result = await session.execute(delete(KnownAlert).where(KnownAlert.expires < before))
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
