"""The deliveries log for operators: list, read with every attempt, and replay.

Runs in the caller's transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.models import Delivery, DeliveryAttempt
from dispatcher.ordering import TAKE_DOWNS, newer_version_exists, taken_down
from dispatcher.schemas import AttemptOut, DeliveryOut, DeliveryPage, DeliveryStatus
from shared.loading import load_or_404
from shared.paging import page_newest_first
from shared.problems import Problem


def delivery_out(d: Delivery, attempts: Sequence[DeliveryAttempt]) -> DeliveryOut:
    """The API's view of a delivery, with its attempts in the order they were made."""
    return DeliveryOut(
        id=d.id,
        webhook_id=d.webhook_id,
        partner_id=d.partner_id,
        alert_id=d.alert_id,
        sequence=d.sequence,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        deadline=d.deadline,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
        attempt_log=[
            AttemptOut(at=a.at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error)
            for a in attempts
        ],
    )


class DeliveryService:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def page(
        self,
        *,
        alert_id: str | None,
        partner_id: str | None,
        status: DeliveryStatus | None,
        limit: int,
        offset: int,
        cursor: str | None = None,
    ) -> DeliveryPage:
        """Deliveries newest first (the id breaks ties), each with its attempts."""
        query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id)
        if alert_id:
            query = query.where(Delivery.alert_id == alert_id)
        if partner_id:
            query = query.where(Delivery.partner_id == partner_id)
        if status:
            query = query.where(Delivery.status == status)
        page = await page_newest_first(
            self._session,
            query,
            Delivery.created_at,
            Delivery.id,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )
        attempts = await self._attempts_of(page.rows)
        return DeliveryPage(
            items=[delivery_out(d, attempts[d.id]) for d in page.rows],
            next_offset=page.next_offset,
            next_cursor=page.next_cursor,
        )

    async def get(self, delivery_id: str) -> DeliveryOut:
        """One delivery with its attempts, or a 404 problem."""
        delivery = await self._load(delivery_id)
        return delivery_out(delivery, (await self._attempts_of([delivery]))[delivery.id])

    async def replay(self, delivery_id: str, cancel_retry: timedelta) -> DeliveryOut:
        """Queues a finished delivery again, unless a newer version exists (the partner
        would get a stale version after it) or the alert has expired (a Cancel excepted)."""
        delivery = await self._load(delivery_id, for_update=True)
        if delivery.status in ("pending", "sending"):
            raise Problem(409, "Conflict", "This delivery is still in progress.")
        if delivery.status == "superseded" or await self._session.scalar(
            select(newer_version_exists(delivery))
        ):
            # Re-sending an older version would show partners a stale or taken-down alert.
            raise Problem(409, "Conflict", "A newer version of this alert replaces this one.")
        if delivery.event_type not in TAKE_DOWNS and await self._session.scalar(
            select(taken_down(delivery))
        ):
            # Even where this partner was never planned the take-down: the child was found.
            raise Problem(
                409, "Conflict", "The alert was taken down; only a take-down is replayed now."
            )
        if delivery.event_type in TAKE_DOWNS:
            # A take-down (a Cancel, or the alert's expiry) goes whenever the partner may
            # still show the alert.
            delivery.deadline = max(delivery.deadline, self._now + cancel_retry)
        elif self._now >= delivery.deadline:
            raise Problem(
                409, "Conflict", "The alert has expired; only a take-down is replayed now."
            )
        delivery.status, delivery.next_attempt_at, delivery.lease_until = "pending", self._now, None
        return delivery_out(delivery, (await self._attempts_of([delivery]))[delivery.id])

    async def _load(self, delivery_id: str, *, for_update: bool = False) -> Delivery:
        return await load_or_404(
            self._session, Delivery, delivery_id, "delivery", for_update=for_update
        )

    async def _attempts_of(
        self, deliveries: Sequence[Delivery]
    ) -> dict[str, list[DeliveryAttempt]]:
        """Every attempt of these deliveries, by delivery, in the order they were made: one
        query for a whole page, not one per delivery."""
        grouped: dict[str, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
        if not grouped:
            return grouped
        attempts = await self._session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(grouped))
            .order_by(DeliveryAttempt.id)
        )
        for attempt in attempts:
            grouped[attempt.delivery_id].append(attempt)
        return grouped
