"""Fixtures: the session's Kafka and PostgreSQL, and the embedded stack per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.testbed.backing_servers import (
    KafkaCluster,
    PostgresServer,
    kafka_broker,
    postgres_server,
)
from services.testbed.loopback import use_port_lane
from services.testbed.production import cap_signing_env
from services.testbed.stack import Stack, embedded_settings, start_stack


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs the suite in several processes), each process
    hands out loopback ports of its own lane, so that none chooses a port another chose for a
    server that has not bound it yet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", …
    if worker:
        use_port_lane(int(worker.removeprefix("gw")), int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """The session's broker, restartable on its data (``.kill()``, ``.start()``). Started
    again after a kill -9, a node is refused until its controller has fenced the killed
    incarnation, one broker session after the controller came back: 3 s here rather than
    Kafka's 9 s, for the tests that restart it. Its heartbeats (every 0.75 s) go to the
    controller in its own process."""
    with kafka_broker(tmp_path_factory.mktemp("kafka"), broker_session_timeout_ms=3_000) as broker:
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


def _signing_with_the_runs_pair() -> dict[str, str]:
    """The run's one CAP signing pair, for the stacks below: each would otherwise make a
    development pair of its own beside its SQLite file, an RSA key generated per test (about
    a tenth of a second, for some hundreds of tests). The development pair has its own tests
    (tests/alert_engine/test_cap_signature.py, tests/services/test_private_files.py)."""
    pair = cap_signing_env()
    return {
        "cap_signing_key": pair["TIFLI_CAP_SIGNING_KEY"],
        "cap_signing_certificate": pair["TIFLI_CAP_SIGNING_CERTIFICATE"],
    }


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    running, server = await start_stack(
        embedded_settings(tmp_path, **_signing_with_the_runs_pair())
    )
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


@pytest.fixture(scope="module")
async def refusing_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One embedded stack for a module's requests that are refused: a refusal changes
    nothing, so the cases of a long list of them need no stack each (starting and stopping
    one was most of each case's time, a second or two on a busy machine). A test using it
    checks that its request left the stored rows as it found them, never that none exist.
    No rate limit: the cases' requests come faster than one key's burst allows, and the
    limit has its own tests (tests/shared/test_rate_limit.py)."""
    running, server = await start_stack(
        embedded_settings(
            tmp_path_factory.mktemp("refusing"),
            rate_limit_per_minute=0,
            **_signing_with_the_runs_pair(),
        )
    )
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


@pytest.fixture
async def short_cancel_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """An embedded stack whose Cancel is retried for 3.6 s instead of 72 h: long enough to
    fail a few times, short enough to die within a test (dead-delivery replays)."""
    running, server = await start_stack(
        embedded_settings(tmp_path, cancel_retry_hours=0.001, **_signing_with_the_runs_pair())
    )
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)
