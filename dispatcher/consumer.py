"""The dispatcher's event handler: each alert version becomes one delivery per partner, and
the common case goes straight out from here without waiting for the worker's next pass."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.erasure import forget_child
from dispatcher.live_alerts import remember, taken_down_after
from dispatcher.ordering import TAKE_DOWNS
from dispatcher.planning import cap_url, plan_deliveries
from dispatcher.worker import Claimed, DeliveryWorker
from shared.bus import Message
from shared.clock import Clock
from shared.events import (
    AlertCancelled,
    AlertErased,
    AlertExpired,
    AlertIssued,
    AlertUpdated,
    parse_event,
)
from shared.inbox import first_delivery

GROUP = "dispatcher"

log = logging.getLogger(__name__)


class AlertEventHandler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        worker: DeliveryWorker,
        *,
        cancel_retry: timedelta,
        public_base_url: str,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._worker = worker
        self._cancel_retry = cancel_retry
        self._public_base_url = public_base_url

    async def __call__(self, message: Message) -> None:
        event = parse_event(message.value)
        now = self._clock.now()
        if isinstance(event, AlertErased):
            async with self._sessions() as session, session.begin():
                if await first_delivery(session, GROUP, event.id, now):
                    await forget_child(session, event.data.alert_id, event.data.info)
            return
        if not isinstance(event, AlertIssued | AlertUpdated | AlertCancelled | AlertExpired):
            return
        claimed: list[Claimed] = []
        try:
            async with self._sessions() as session, session.begin():
                claimed, left = await self._plan(session, event, now)
        except BaseException:
            self._worker.give_back(claimed)  # claimed, but not committed: never sent
            raise
        # Only after the commit: a crash before it leaves nothing claimed and nothing sent.
        self._worker.dispatch(claimed)
        if left:
            self._worker.wake()

    async def _plan(
        self,
        session: AsyncSession,
        event: AlertIssued | AlertUpdated | AlertCancelled | AlertExpired,
        now: datetime,
    ) -> tuple[list[Claimed], bool]:
        """The version's deliveries planned, in the caller's transaction: those that can go
        at once claimed (their partners' slots taken), and whether any is left for the
        delivery loop."""
        if not await first_delivery(session, GROUP, event.id, now):
            return [], False
        # First: the planning lock it takes must cover the choice of partners.
        alert = event.data.alert
        await remember(
            session, event, cap_url(self._public_base_url, alert.alert_id, alert.sequence)
        )
        if event.type not in TAKE_DOWNS and await taken_down_after(
            session, alert.alert_id, alert.sequence
        ):
            log.warning(
                "alert version after its take-down not sent",
                extra={"alert_id": alert.alert_id, "sequence": alert.sequence},
            )
            return [], False
        planned = await plan_deliveries(
            session,
            event,
            now=now,
            cancel_retry=self._cancel_retry,
            public_base_url=self._public_base_url,
        )
        claimed = await self._worker.claim_fresh(session, planned, now)
        return claimed, len(claimed) < len(planned)
