"""What every service's router reads from the running app, as typed FastAPI dependencies.

The wiring (``services/api.py``) hands the app its parts once with ``install_parts``; a route
or dependency finds one again by its type (``part``), so no route reads an untyped
``app.state`` attribute. ``AppContext`` holds what every service uses; a service package
defines its own part for what only its routes need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.rate_limit import RateLimiter
from shared.sealing import Sealer
from shared.settings import Settings

PartT = TypeVar("PartT")


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    sealer: Sealer
    # None: requests are not rate-limited per key.
    rate_limiter: RateLimiter | None = None


def install_parts(app: FastAPI, *parts: object) -> None:
    """Keep ``parts`` on ``app``, each to be found again by its type."""
    app.state.parts = {type(p): p for p in parts}


def part(request: Request, kind: type[PartT]) -> PartT:
    """The part of type ``kind`` that the wiring installed on the app."""
    found = request.app.state.parts[kind]
    if not isinstance(found, kind):  # only a wiring mistake gets here
        raise TypeError(f"{kind.__name__} installed as {type(found).__name__}")
    return found


# The dependencies here and in each service's ``dependencies`` are ``async def`` though they
# never wait: FastAPI runs a plain ``def`` dependency in a worker thread, a hand-off to and
# from a thread for each one on every request.
async def app_context(request: Request) -> AppContext:
    return part(request, AppContext)


async def request_time(context: Annotated[AppContext, Depends(app_context)]) -> datetime:
    """The request's one "now": every rule of one request sees the same instant."""
    return context.clock.now()


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request, shared by its dependencies (FastAPI caches them per request):
    authentication and the endpoint's transaction use the same one."""
    async with part(request, AppContext).sessions() as session:
        yield session


Context = Annotated[AppContext, Depends(app_context)]
Now = Annotated[datetime, Depends(request_time)]
# Outside any transaction: for routes that open their own around a call to another system.
Session = Annotated[AsyncSession, Depends(db_session)]
