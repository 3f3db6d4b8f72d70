"""What every service's router reads from the running app: settings, database, clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.settings import Settings


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request; the endpoint's service decides when its transaction commits."""
    async with app_context(request).sessions() as session:
        yield session
