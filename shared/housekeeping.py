"""Housekeeping: tables that only grow are pruned after a retention period.

Published outbox rows, processed-event ids and the attempts of finished deliveries are only
needed for a while: the outbox to publish (and, in the embedded mode, to send again what a
consumer had not finished), the processed ids to recognise a redelivered event, the attempts
for operators reading what happened. Each service prunes the tables it owns, in a loop under
the same supervision as the others; each prune is one idempotent DELETE (or a run of them,
a bounded batch each), so several processes doing it at once is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.supervision import Supervisor

log = logging.getLogger(__name__)

# Deletes the rows older than the given moment that are no longer needed; returns how many.
PruneRows = Callable[[AsyncSession, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Prune:
    table: str  # for logs and tests
    rows: PruneRows
    keep: timedelta
    # Set when ``rows`` deletes at most this many rows a call: it is called again, each call
    # in a transaction of its own, until a call deletes fewer.
    batch: int | None = None


class Housekeeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        prunes: list[Prune],
        *,
        interval_s: float,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._prunes = prunes
        self._interval_s = interval_s
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ends the loop after the pass in hand."""
        self._stopping.set()

    async def run(self, supervisor: Supervisor) -> None:
        """Prunes until stopped; an error in one pass never ends the loop."""
        await supervisor.supervise(
            "housekeeping", self._pass, self._stopping, interval_s=self._interval_s
        )

    async def prune_once(self) -> dict[str, int]:
        """One pass over every table, each in its own transaction; rows deleted per table."""
        now = self._clock.now()
        deleted: dict[str, int] = {}
        for prune in self._prunes:
            deleted[prune.table] = 0
            while True:
                async with self._sessions() as session, session.begin():
                    rows = await prune.rows(session, now - prune.keep)
                deleted[prune.table] += rows
                if prune.batch is None or rows < prune.batch:
                    break
        if any(deleted.values()):
            log.info("pruned", extra={"rows": deleted})
        return deleted

    async def _pass(self) -> None:
        await self.prune_once()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._interval_s)
