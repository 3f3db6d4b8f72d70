"""A partner known to answer again catches up at once, not on its back-off schedule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.models import Delivery


async def bring_forward(session: AsyncSession, partner_id: str, now: datetime) -> int:
    """The partner's deliveries still waiting out a back-off become due now (the claim keeps
    each alert's versions in order), in the caller's transaction. Called whenever the partner
    is seen answering: a delivery or a test event accepted, a handshake passed. Returns how
    many."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.partner_id == partner_id,
            Delivery.status == "pending",
            Delivery.attempts > 0,
            Delivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
