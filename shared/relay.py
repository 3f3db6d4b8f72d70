"""The outbox relay: the only publisher. Reads pending outbox rows in id order, publishes them,
marks them sent. At-least-once: a crash between publish and mark re-publishes, and consumers
deduplicate by event id.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, Select, event, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus import EventBus, Outgoing
from shared.clock import Clock
from shared.outbox import OutboxEvent, had_outbox_events
from shared.relay_leadership import PUBLISH_LOCK_KEY, Leadership, SoleRelay
from shared.supervision import Supervisor
from shared.transient_errors import describe
from shared.unfinished_events import Consumers, requeue_unfinished

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        clock: Clock,
        *,
        topic_prefix: str,
        poll_interval_s: float = 1.0,
        batch_size: int = 100,
        leadership: Leadership | None = None,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._clock = clock
        self._prefix = topic_prefix
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._leadership = leadership or SoleRelay()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """Starts the next pass now instead of at the next poll: events are waiting."""
        self._wake.set()

    def wake_on_commit(self) -> None:
        """Same-process writers wake the relay the moment their transaction commits."""

        def _after_commit(session: Any) -> None:
            if had_outbox_events(session):
                self._wake.set()

        event.listen(self._sessions.kw["sync_session_class"], "after_commit", _after_commit)

    async def run(self, supervisor: Supervisor) -> None:
        """Passes until stopped; an error in one (database or broker away) never ends it."""
        try:
            await supervisor.supervise("outbox-relay", self._pass, self._stopping)
        finally:
            await self._leadership.close()

    async def _pass(self) -> None:
        self._wake.clear()
        published = 0
        if await self._leadership.may_publish():
            published = await self.publish_pending()
        if published >= self._batch_size:
            return  # more waiting: no nap
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)

    def stop(self) -> None:
        """Ends the loop after the pass in hand."""
        self._stopping.set()
        self._wake.set()

    async def requeue_unconsumed(self, consumers: Consumers, kept: timedelta) -> int:
        """Embedded mode, at start-up: put back every event that some consumer group never
        finished (of those published within ``kept``, the outbox's retention). The
        in-process bus keeps its logs in memory, so what it held when the process stopped
        (or crashed) is gone; the outbox and the consumers' processed-event records are on
        disk and say exactly what to send again. Consumers deduplicate."""
        async with self._sessions() as session, session.begin():
            requeued = await requeue_unfinished(session, consumers, self._clock.now() - kept)
        if requeued:
            log.info("events requeued after a restart", extra={"count": requeued})
        return requeued

    async def publish_pending(self) -> int:
        """One pass; returns how many events went out."""
        async with self._sessions() as session, session.begin():
            rows = (await session.scalars(self._pending(session))).all()
            if not rows:
                return 0
            accepted = await self._bus.publish_in_order(
                [
                    Outgoing(
                        f"{self._prefix}.{row.topic}",
                        row.key,
                        row.payload.encode(),
                        {"event-id": row.event_id, "event-type": row.event_type},
                    )
                    for row in rows
                ]
            )
            sent = [row.id for row in rows[: accepted.count]]
            if accepted.error is not None:
                # Only the run before the first failure counts as sent: marking anything after
                # it would let later events overtake this one. It is retried next pass.
                failed = rows[accepted.count]
                failed.attempts += 1
                failed.last_error = f"{type(accepted.error).__name__}: {accepted.error}"[:1000]
                _said_not_published(failed, accepted.error)
            if sent:
                log.debug("outbox events published", extra={"count": len(sent)})
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_(sent))
                    .values(published_at=self._clock.now())
                )
            return len(sent)

    def _pending(self, session: AsyncSession) -> Select[OutboxEvent]:
        """The oldest unpublished rows, locked, in id order."""
        query = (
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(self._batch_size)
            .with_for_update(of=OutboxEvent)
        )
        if session.get_bind().dialect.name != "postgresql":
            return query  # embedded mode: one process, one relay
        # Another relay may be publishing right now. Leadership normally prevents this; the
        # transaction-scoped lock makes it impossible, even if a leader lost its lock
        # unnoticed, so events can never go out of order. Taken in the same statement as the
        # read (a CTE with a volatile function runs once): one round trip less per hop. When
        # another relay holds it, no rows come back.
        lock = select(
            func.pg_try_advisory_xact_lock(literal(PUBLISH_LOCK_KEY, BigInteger)).label("held")
        ).cte("publish_lock")
        return query.join(lock, lock.c.held)


def _said_not_published(row: OutboxEvent, error: BaseException) -> None:
    """A warning in the relay's own words, with what an operator acts on (the broker's
    answer, the event held up and how often it was tried; never its payload). Said at the
    1st, 2nd, 4th, 8th… try: a broker away for an hour fails a pass every request timeout,
    and one that refuses an event at once fails every pass."""
    if row.attempts & (row.attempts - 1):
        return
    log.warning(
        "outbox event not published: it and every later one wait for the next pass",
        extra={
            "event_id": row.event_id,
            "event_type": row.event_type,
            "attempts": row.attempts,
            **describe(error),
        },
    )
