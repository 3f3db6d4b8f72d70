"""The engine's clock-driven work: widening growing zones and expiring alerts on time.

The due times live in the ``alerts`` table (``next_widen_at``, ``expires``), not in memory, so
a restarted engine simply finds what came due while it was down. Each due alert is handled
in its own transaction under ``FOR UPDATE SKIP LOCKED``: several engines share the work and
no alert is widened or expired twice.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alert_engine.models import Alert
from alert_engine.service import AlertService, EngineConfig
from shared.clock import Clock, as_utc
from shared.supervision import Supervisor


def _due(now: datetime) -> list[object]:
    return [Alert.state == "active", or_(Alert.expires <= now, Alert.next_widen_at <= now)]


class AlertTimers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: EngineConfig,
        clock: Clock,
        *,
        poll_interval_s: float,
        batch_size: int = 50,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ends the loop after the pass in hand."""
        self._stopping.set()

    async def run(self, supervisor: Supervisor) -> None:
        """Passes until stopped; an error in one (the database away) never ends the loop."""
        await supervisor.supervise("alert-timers", self._pass, self._stopping)

    async def _pass(self) -> None:
        if await self.run_due() >= self._batch_size:
            return  # more may be due: no nap
        nap_s = await self._nap()  # before the waiter: a failed query leaves none un-awaited
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), nap_s)

    async def run_due(self) -> int:
        """Handle every alert that is due now; returns how many were handled."""
        now = self._clock.now()
        async with self._sessions() as session:
            due_ids = list(
                (
                    await session.scalars(
                        select(Alert.id).where(*_due(now)).limit(self._batch_size)  # type: ignore[arg-type]
                    )
                ).all()
            )
        handled = 0
        for alert_id in due_ids:
            async with self._sessions() as session, session.begin():
                alert = (
                    await session.scalars(
                        select(Alert)
                        .where(Alert.id == alert_id, *_due(now))  # type: ignore[arg-type]
                        .with_for_update(skip_locked=True)
                    )
                ).one_or_none()
                if alert is None:
                    continue  # another engine has it, or it is no longer due
                await AlertService(session, self._config, now).on_timer(alert)
                handled += 1
        return handled

    async def _nap(self) -> float:
        """Until the next timer is due, at most one poll interval."""
        async with self._sessions() as session:
            active = select(Alert).where(Alert.state == "active").subquery()
            row = (
                await session.execute(
                    select(func.min(active.c.next_widen_at), func.min(active.c.expires))
                )
            ).one()
        upcoming = [moment for moment in row if moment is not None]
        if not upcoming:
            return self._poll_interval_s
        wait = (as_utc(min(upcoming)) - self._clock.now()).total_seconds()
        return min(max(wait, 0.01), self._poll_interval_s)
