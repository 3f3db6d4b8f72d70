"""A Kafka bootstrap host that does not resolve (a mistyped name) is said as such, naming
the host — at a worker's start, in /readyz and once in the log — apart from a broker that
does not answer. Names under ``.invalid`` never resolve (RFC 6761): no DNS server needed."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from services.components import build_components
from services.database import upgrade
from services.testbed.loopback import free_port
from services.testbed.production import fresh_database, migrate
from services.testbed.stack import embedded_settings
from shared.bus.bootstrap_hosts import bootstrap_names
from shared.sealing import Sealer
from tests.waiting import eventually

MISTYPED = "kafka-1.invalid"


def test_the_names_to_resolve_are_the_bootstrap_list_s_host_names() -> None:
    listed = f"{MISTYPED}:9092, 127.0.0.1:9093,[::1]:9094,{MISTYPED}:9095,kafka-2"
    assert bootstrap_names(listed) == [MISTYPED, "kafka-2"]


async def _broker_in_readyz(tmp_path: Path, bootstrap: str) -> list[str]:
    """What the API process's /readyz says of the broker, probed twice."""
    tmp_path.mkdir()
    settings = embedded_settings(tmp_path, kafka_bootstrap_servers=bootstrap, cap_unsigned=True)
    await asyncio.to_thread(upgrade, settings.database_url)
    api = build_components(settings, ("intake-api",))
    try:
        readiness = api.readiness()
        return [(await readiness.check())[1]["broker"] for _ in range(2)]
    finally:
        await api.engine.dispose()


async def test_the_api_says_which_bootstrap_host_does_not_resolve(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="shared"):
        states = await _broker_in_readyz(tmp_path / "mistyped", f"{MISTYPED}:9092")
    said = f"the bootstrap host {MISTYPED} does not resolve"
    assert states == [said, said]
    # Said once in the log, not at every probe.
    ours = [r for r in caplog.records if r.name.startswith("shared")]
    assert [r.getMessage() for r in ours] == [
        f"{said}: check KAFKA_BOOTSTRAP_SERVERS (Kafka is waited for meanwhile)"
    ]

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="shared"):
        silent = await _broker_in_readyz(tmp_path / "silent", f"127.0.0.1:{free_port()}")
    assert silent == ["unreachable", "unreachable"]  # nothing listens: an outage
    assert not [r for r in caplog.records if r.name.startswith("shared")]


@pytest.mark.postgres
async def test_a_worker_says_it_waits_for_a_host_that_does_not_resolve(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TIFLI_DATABASE_URL": await fresh_database(postgres_url),
        "KAFKA_BOOTSTRAP_SERVERS": f"{MISTYPED}:9092",
        "TIFLI_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        "TIFLI_DATA_KEY": Sealer.new_key(),
    }
    await migrate(env)
    ops_port = free_port()
    log = tmp_path / "relay.log"
    with log.open("ab") as output:
        relay = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", "relay"],
            env={**env, "TIFLI_OPS_PORT": str(ops_port)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    said = f"the bootstrap host {MISTYPED} does not resolve: check KAFKA_BOOTSTRAP_SERVERS"
    try:

        async def written() -> str:
            return log.read_text(errors="replace")

        await eventually(written, lambda text: said in text, timeout=60, interval=0.1)
        assert f"waiting for the broker {MISTYPED}:9092 ({said})" in log.read_text()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}") as probe:
            waiting = await probe.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.json()["waiting_for"] == f"the broker {MISTYPED}:9092 ({said})"
        assert relay.poll() is None  # still waiting: a name may resolve a moment later
    finally:
        relay.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(relay.wait, 30) == 0
