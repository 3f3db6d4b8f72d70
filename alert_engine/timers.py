"""The engine's clock-driven work: widening growing zones and expiring alerts on time.

The due times live in the ``alerts`` table (``next_widen_at``, ``expires``), not in memory, so
a restarted engine simply finds what came due while it was down. Each due alert is handled
in its own transaction under ``FOR UPDATE SKIP LOCKED``: several engines share the work and
no alert is widened or expired twice.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alert_engine.models import Alert
from alert_engine.service import (
    AlertService,
    DrawnBefore,
    EngineConfig,
    draw_before,
    locations_of,
    off_the_loop,
    widening_due,
)
from shared.clock import Clock, as_utc
from shared.supervision import Supervisor
from shared.transient_errors import describe, is_transient

log = logging.getLogger(__name__)


def _due(now: datetime) -> list[object]:
    return [Alert.state == "active", or_(Alert.expires <= now, Alert.next_widen_at <= now)]


class AlertTimerFailed(Exception):
    """Some due alerts could not be handled; the others were (the first cause is chained)."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} due alert(s) could not be handled")


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
        """Handle every alert that is due now, expiries first; returns how many were handled.

        Each alert is handled apart: one whose widening fails (a zone that cannot be
        computed) must not hold back the others' expiries, pass after pass. Its widening is
        put off by an interval and the others go on; the pass then fails with the cause,
        which supervision logs and counts. An error of the database's (it is away) ends the
        pass at once: every alert would meet it."""
        now = self._clock.now()
        async with self._sessions() as session:
            due = (
                await session.execute(
                    select(Alert.id, Alert.expires <= now)
                    .where(*_due(now))  # type: ignore[arg-type]
                    .order_by(case((Alert.expires <= now, 0), else_=1), Alert.expires)
                    .limit(self._batch_size)
                )
            ).all()
        handled = 0
        failed: list[Exception] = []
        for alert_id, expiring in due:
            try:
                handled += await self._handle(alert_id, now, expiring=bool(expiring))
            except Exception as exc:
                if is_transient(exc):
                    raise
                failed.append(exc)
                log.error(
                    "a due alert could not be handled",
                    extra={"alert_id": alert_id, **describe(exc)},
                )
                await self._put_off_widening(alert_id, now)
        if failed:
            raise AlertTimerFailed(len(failed)) from failed[0]
        return handled

    async def _handle(self, alert_id: str, now: datetime, *, expiring: bool) -> int:
        """What is due for one alert, in its own transaction: 1 if it was handled. An expiry
        (its take-down names the area partners hold: no zone to draw) goes at once."""
        drawn = (
            await self._drawn_for_widening(alert_id, now)
            if self._config.updates_drawn_ahead and not expiring
            else None
        )
        async with self._sessions() as session, session.begin():
            alert = (
                await session.scalars(
                    select(Alert)
                    .where(Alert.id == alert_id, *_due(now))  # type: ignore[arg-type]
                    .with_for_update(skip_locked=True)
                )
            ).one_or_none()
            if alert is None:
                return 0  # another engine has it, or it is no longer due
            await AlertService(session, self._config, now).on_timer(alert, drawn)
            return 1

    async def _drawn_for_widening(self, alert_id: str, now: datetime) -> DrawnBefore | None:
        """The zone of the alert's widening, if one is due, drawn before its transaction
        (``draw_before``; only where the database has one writer, which that transaction
        holds: ``EngineConfig.updates_drawn_ahead``), from the alert as read now without
        locking it: the transaction then holds the database for milliseconds, not the
        drawing."""
        async with self._sessions() as session:
            alert = await session.get(Alert, alert_id)
        # Decided once the read is over: it holds SQLite's one writer.
        if (
            alert is None
            or alert.state != "active"
            or now >= alert.expires  # expired since: the take-down draws no zone
            or not widening_due(alert, self._config, now)
        ):
            return None
        report_id, locations = alert.report_id, locations_of(alert)
        travel_mode = alert.travel_mode
        return await off_the_loop(draw_before, self._config, report_id, locations, travel_mode, now)

    async def _put_off_widening(self, alert_id: str, now: datetime) -> None:
        """The alert's next widening an interval away, so that it stops coming first. Its
        expiry is left as it is: expiry computes no zone, and if that fails too, the alert
        stays due and the pass fails each time (the loop goes stale: readiness shows it)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Alert)
                .where(Alert.id == alert_id, Alert.state == "active", Alert.expires > now)
                .values(next_widen_at=now + self._config.widen_interval)
            )

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
