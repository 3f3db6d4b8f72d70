"""How many PostgreSQL sessions wait on a lock now: the moment a test's transaction is known
to be blocked by another's (awaited with ``tests.waiting.eventually``), not guessed by a sleep."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def blocked_on_a_lock(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return int(waiting or 0)
