"""The embedded mode on a real loopback port, with an API key per persona: what most tests
and several benchmarks run against."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from services.api import create_app
from services.components import ALL_ROLES, Components, build_components
from services.database import upgrade
from services.testbed.loopback import bound_socket, serve
from services.testbed.partner import PartnerEndpoint
from shared.auth import create_api_key
from shared.bus.memory import InProcessBus
from shared.clock import Clock
from shared.outbox import OutboxEvent
from shared.settings import Settings

FAST_RETRIES = (0.0, 0.05, 0.1, 0.2)


def embedded_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Embedded-mode settings on a SQLite file in ``tmp_path``, with retries and polls short enough
    for tests; ``overrides`` wins."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'tifli.db'}",
        "kafka_bootstrap_servers": None,
        "webhook_allow_private": True,
        "webhook_retry_schedule_s": FAST_RETRIES,
        "webhook_timeout_s": 5.0,
        "delivery_poll_interval_s": 0.2,
        "outbox_poll_interval_s": 0.2,
        # Tests send many keyless requests from one address on purpose; the limit on failed
        # authentication has its own test (tests/services/test_failed_auth_limit.py).
        "auth_failures_per_minute": 0,
        **overrides,
    }
    return Settings(**values)


@dataclass
class Stack:
    settings: Settings | None  # None: the services run in other processes
    components: Components | None
    base_url: str
    keys: dict[str, str]

    @property
    def embedded(self) -> Components:
        """The in-process components (embedded mode only)."""
        assert self.components is not None, "this stack runs its services in other processes"
        return self.components

    @property
    def bus(self) -> InProcessBus:
        """The in-process bus (embedded mode only)."""
        bus = self.embedded.bus
        assert isinstance(bus, InProcessBus)
        return bus

    async def quiet(self, timeout: float = 15.0) -> None:
        """Until every event written so far is published and handled, and so is every event
        that handling wrote in turn (embedded mode). The bus alone can be idle while the
        outbox still holds what the relay has yet to publish: there is no event to await for
        that (the relay may be another process's), so the outbox is looked at."""
        async with asyncio.timeout(timeout):
            while True:
                if await self._unpublished():
                    await asyncio.sleep(0.02)
                    continue
                await self.bus.wait_idle(timeout)
                if not await self._unpublished():
                    return

    async def _unpublished(self) -> int:
        async with self.embedded.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
            )
        return int(count or 0)

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        """An HTTP client for the API, authenticated as the persona ``key`` (none: anonymous)."""
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)

    @asynccontextmanager
    async def clients(self, *keys: str) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
        """A ``client`` for each persona, open together (closed together at the end)."""
        async with AsyncExitStack() as opened:
            yield tuple([await opened.enter_async_context(self.client(k)) for k in keys])

    async def deliveries(self, **query: str) -> list[dict[str, Any]]:
        """The first page of ``GET /v1/deliveries`` with ``query``, read as the admin persona."""
        async with self.client("admin") as admin:
            response = await admin.get("/v1/deliveries", params=query)
        if response.status_code != 200:
            raise RuntimeError(f"deliveries not listed: {response.status_code} {response.text}")
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def register_partner(self, partner: PartnerEndpoint) -> dict[str, object]:
        """Register a loopback partner as the admin persona (the handshake included)."""
        async with self.client("admin") as admin:
            response = await admin.post(
                "/v1/partners",
                json={"name": "Metabook", "url": partner.url, "verify_token": partner.verify_token},
            )
        if response.status_code != 201 or response.json()["status"] != "active":
            raise RuntimeError(f"partner not registered: {response.status_code} {response.text}")
        registered: dict[str, object] = response.json()
        return registered


# The suite's personas are national keys (they see every case); tests about units make their
# own unit keys (tests/intake_api/test_units.py).
KEY_SCOPES = {
    "submitter": ["reports:submit", "reports:read"],
    "reviewer": ["reports:review", "reports:read", "reports:submit"],
    "reader": ["reports:read", "alerts:read"],
    # The scopes it hands out to the keys tests make through the API, besides its own work.
    "admin": [
        "partners:admin",
        "deliveries:read",
        "deliveries:ops",
        "keys:admin",
        "reports:read",
        "alerts:read",
    ],
}


@dataclass
class FakeClock:
    """Simulated time: tests move it forward by hand."""

    moment: datetime

    def now(self) -> datetime:
        """The simulated time."""
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


async def start_stack(
    settings: Settings, clock: Clock | None = None, *, timer_loop: bool = True
) -> tuple[Stack, Any]:
    """Migrates the database, builds every component and serves the API on a free loopback port;
    returns the stack and the server (leave it with ``__aexit__``). Without ``timer_loop`` the
    engine's timers run only when the test calls them (``Components.end_timer_loop``)."""
    await asyncio.to_thread(upgrade, settings.database_url)
    components = build_components(settings, ALL_ROLES, clock)
    keys = {}
    async with components.sessions() as session, session.begin():
        for name, scopes in KEY_SCOPES.items():
            keys[name] = await create_api_key(session, name, scopes, datetime.now(UTC))
    server = serve(create_app(components), bound_socket(), settings.http_keep_alive_s)
    base = await server.__aenter__()
    if not timer_loop:
        await components.end_timer_loop()
    return Stack(settings, components, base, keys), server
