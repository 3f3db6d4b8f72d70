"""A partner known to answer again catches up at once, not on its back-off schedule, and a
partner verified again gets what died while it was gone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dispatcher.models import Delivery
from dispatcher.ordering import TAKE_DOWNS, taken_down


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


async def revive_newest_dead(session: AsyncSession, partner_id: str, now: datetime) -> int:
    """Each alert's newest version for the partner, if it died (answered 410 Gone, or its
    retries spent while the partner failed), is due again, in the caller's transaction where
    the partner is verified again. A take-down always, with its retry window anew: the
    child was found, and the partner may still show the alert. Any other version only while
    its alert is up. Returns how many."""
    newer = aliased(Delivery)
    newest_dead = await session.scalars(
        select(Delivery).where(
            Delivery.partner_id == partner_id,
            Delivery.status == "dead",
            ~exists().where(
                newer.alert_id == Delivery.alert_id,
                newer.partner_id == Delivery.partner_id,
                newer.sequence > Delivery.sequence,
                newer.status != "superseded",
            ),
        )
    )
    revived = 0
    for delivery in newest_dead.all():
        if delivery.event_type in TAKE_DOWNS:
            window = delivery.deadline - delivery.created_at  # as long as it was first given
            delivery.deadline = max(delivery.deadline, now + window)
        elif delivery.deadline <= now or await session.scalar(select(taken_down(delivery))):
            continue  # the alert is over: only its take-down goes now
        delivery.status, delivery.next_attempt_at, delivery.lease_until = "pending", now, None
        revived += 1
    return revived
