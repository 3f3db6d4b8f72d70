"""PostgreSQL side of the relay: one active relay at a time, woken by LISTEN/NOTIFY.

Per-case order needs the outbox published in id order, so only one relay may publish at a
time: it holds a session-level advisory lock on a dedicated connection. Standby relays keep
trying; if the leader dies its connection closes, the lock is released, and a standby takes
over within one poll interval. The same connection LISTENs for the NOTIFY that the outbox's
trigger sends when a writer commits, so an approval reaches the broker in milliseconds rather
than at the next poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg
from prometheus_client import Gauge
from sqlalchemy.engine import make_url

from shared.outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)
# An arbitrary constant naming the relay's lock (pg advisory locks are keyed by a bigint).
RELAY_LOCK_KEY = 0x7469666C69  # "tifli": held by the active relay's listening connection
PUBLISH_LOCK_KEY = RELAY_LOCK_KEY + 1  # held by each publishing transaction
# Which relay publishes: a standby looks the same as the active one from its health checks.
ACTIVE = Gauge("tifli_relay_active", "1 while this relay is the one publishing the outbox.")


class Leadership(Protocol):
    async def may_publish(self) -> bool: ...

    async def close(self) -> None: ...


class SoleRelay:
    """Embedded mode: one process, one relay, the active one (its gauge says so, as a
    production relay's does: an alert on no active relay must not fire here)."""

    async def may_publish(self) -> bool:
        ACTIVE.set(1)
        return True

    async def close(self) -> None:
        ACTIVE.set(0)


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL as a plain PostgreSQL DSN, for asyncpg connections opened outside
    SQLAlchemy."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresLeadership:
    def __init__(self, database_url: str, on_notify: Callable[[], None]) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._on_notify = on_notify
        self._connection: Any = None
        self._leader = False

    def _notified(self, *_: object) -> None:
        self._on_notify()

    async def may_publish(self) -> bool:
        """Raises when the database cannot be reached: the relay's supervisor waits it out."""
        if self._connection is None or self._connection.is_closed():
            if self._leader:
                log.warning("this relay lost its database connection: no longer the active one")
                ACTIVE.set(0)
            self._leader, self._connection = False, None
            connection = await asyncpg.connect(self._dsn)
            try:
                await connection.add_listener(NOTIFY_CHANNEL, self._notified)
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
        if not self._leader:
            self._leader = bool(
                await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY)
            )
            if self._leader:
                log.info("this relay is now the active one")
                ACTIVE.set(1)
        return self._leader

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()  # releases the lock for a standby
        self._connection = None
        self._leader = False
        ACTIVE.set(0)
