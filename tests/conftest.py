"""Fixtures: the embedded stack on a real loopback port, API keys, a report body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.api import create_app
from services.components import ALL_ROLES, Components, build_components
from services.database import upgrade
from shared.auth import create_api_key
from shared.bus.memory import InProcessBus
from shared.clock import Clock
from shared.settings import Settings
from tests.partner_server import bound_socket, serve
from tests.servers import KafkaCluster, PostgresServer, kafka_broker, postgres_server

FAST_RETRIES = (0.0, 0.05, 0.1, 0.2)


def embedded_settings(tmp_path: Path, **overrides: Any) -> Settings:
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
        assert self.components is not None, "this stack runs its services in other processes"
        return self.components

    @property
    def bus(self) -> InProcessBus:
        bus = self.embedded.bus
        assert isinstance(bus, InProcessBus)
        return bus

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)


# The suite's personas are national keys (they see every case); tests about units make their
# own unit keys (tests/intake_api/test_units.py).
KEY_SCOPES = {
    "submitter": ["reports:submit", "reports:read"],
    "reviewer": ["reports:review", "reports:read", "reports:submit"],
    "reader": ["reports:read", "alerts:read"],
    "admin": ["partners:admin", "deliveries:read", "deliveries:ops", "keys:admin"],
}


@dataclass
class FakeClock:
    """Simulated time: tests move it forward by hand."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


async def start_stack(settings: Settings, clock: Clock | None = None) -> tuple[Stack, Any]:
    await asyncio.to_thread(upgrade, settings.database_url)
    components = build_components(settings, ALL_ROLES, clock)
    keys = {}
    async with components.sessions() as session, session.begin():
        for name, scopes in KEY_SCOPES.items():
            keys[name] = await create_api_key(session, name, scopes, datetime.now(UTC))
    server = serve(create_app(components), bound_socket())
    base = await server.__aenter__()
    return Stack(settings, components, base, keys), server


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """The session's broker, restartable on its data (``.kill()``, ``.start()``)."""
    with kafka_broker(tmp_path_factory.mktemp("kafka")) as broker:
        yield broker


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka: KafkaCluster) -> str:
    return kafka.bootstrap


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL, restartable on its data (``.stop(mode)``, ``.start()``)."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    return postgres.url


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    running, server = await start_stack(embedded_settings(tmp_path))
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child": {
            "given_name": "Amina",
            "family_name": "Benali",
            "age": 9,
            "sex": "female",
            "description": "Short black hair, brown eyes, about 130 cm, scar above left eyebrow",
            "clothing": "Red jacket, blue jeans, white sneakers",
            "photo_urls": ["https://photos.example.org/amina.jpg"],
        },
        "last_seen": {
            "location": {"lat": 33.5731, "lon": -7.5898},
            "place_name": "Casablanca, Maarif",
            "at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
        },
        "circumstances": "Left school at 16:30 and never arrived home; a witness saw a grey van.",
        "suspected_vehicle": {"description": "Grey Renault Kangoo van", "plate": "12345-A-6"},
        "travel_mode": "vehicle",
        "guardian": {
            "name": "Fatima Benali",
            "phone": "+212 600 000 000",
            "consent_to_publication": True,
        },
        # No unit: the personas are national keys, so the case is national (see access.py).
        "submitted_by": {"officer": "Inspector Idrissi"},
    }
    body.update(overrides)
    return body


DELETE = object()  # for report_body_with: leave the field out


def report_body_with(path: str, value: Any) -> dict[str, Any]:
    """A valid report body with one field (a dotted path) set to ``value``, or removed."""
    body = report_body()
    *parents, leaf = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[leaf]
    else:
        target[leaf] = value
    return body


CRITERIA = {
    "criteria": {
        "child_under_18": True,
        "involuntary_or_at_risk": True,
        "enough_descriptive_information": True,
        "guardian_consent_recorded": True,
        "publication_adds_no_risk": True,
    }
}
