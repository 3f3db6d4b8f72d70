"""The deploy scripts restart on their data: `stop` (even a crash) keeps it, `start` formats or
initialises only empty storage, and only the explicit `wipe` deletes it (never while running,
never a directory the script did not make). Each test runs its own server, not the session's."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from services.testbed.backing_servers import (
    KAFKA_SCRIPT,
    POSTGRES_SCRIPT,
    KafkaCluster,
    _run,
    kafka_broker,
    postgres_server,
)
from shared.bus.kafka import ensure_topics


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _rows(url: str) -> list[str]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        return [r["note"] for r in await conn.fetch("SELECT note FROM kept ORDER BY id")]
    finally:
        await conn.close()


async def _insert(url: str, note: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS kept (id serial PRIMARY KEY, note text)")
        await conn.execute("INSERT INTO kept (note) VALUES ($1)", note)
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_postgres_keeps_its_data_across_stop_crash_and_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TIFLI_TEST_DATABASE_URL", raising=False)
    with postgres_server() as server:
        assert server.managed and server.url == str(server)
        await _insert(server.url, "before a clean stop")
        server.stop("fast")
        assert not server.running()
        server.start()
        assert await _rows(server.url) == ["before a clean stop"]

        # A crash-like stop: the acknowledged commit must survive (WAL recovery on start).
        await _insert(server.url, "ʿayn ⵜⴰⵎⴰⵣⵉⵖⵜ before a crash")
        server.stop("immediate")
        server.start()
        assert await _rows(server.url) == ["before a clean stop", "ʿayn ⵜⴰⵎⴰⵣⵉⵖⵜ before a crash"]

        with pytest.raises(RuntimeError, match="running; stop it first"):
            server.wipe()
        assert len(await _rows(server.url)) == 2
        assert server.port is not None
        work = POSTGRES_SCRIPT.parent / "target" / f"run-{server.port}"
        data_dir_existed = work.exists() or Path(f"/tmp/tifli-postgres-{server.port}").exists()
    # The session helper stops, then wipes: the test run leaves nothing behind.
    assert data_dir_existed
    assert not work.exists() and not Path(f"/tmp/tifli-postgres-{server.port}").exists()


def test_the_scripts_never_wipe_a_directory_they_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("not ours")
    for script, variable in ((POSTGRES_SCRIPT, "PG_WORK_DIR"), (KAFKA_SCRIPT, "KAFKA_WORK_DIR")):
        with pytest.raises(RuntimeError, match="not made by"):
            _run(script, ["wipe"], {variable: str(tmp_path)}, timeout=60)
        assert precious.read_text() == "not ours"


async def _cluster_id(bootstrap: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return str((await admin.describe_cluster())["cluster_id"])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, values: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value.encode(), key=value[:1].encode())
    finally:
        await producer.stop()


async def _read_all(bootstrap: str, topic: str, expected: int) -> list[str]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            while len(seen) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                seen += [r.value.decode() for records in batch.values() for r in records]
    finally:
        await consumer.stop()
    return seen


@pytest.mark.kafka
async def test_kafka_keeps_topics_and_messages_across_stop_kill_and_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    work = tmp_path / "kafka"
    topic = f"kept-{uuid.uuid4().hex[:8]}"
    with kafka_broker(work) as broker:
        assert isinstance(broker, KafkaCluster) and broker.nodes == (1,)
        bootstrap = broker.bootstrap
        cluster_id = await _cluster_id(bootstrap)
        await ensure_topics(bootstrap, [topic], partitions=2, replication_factor=1)
        first = [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)]
        await _produce(bootstrap, topic, first)

        broker.stop()
        assert not broker.running(1)
        broker.start()
        # Same cluster (not re-formatted), same topic, same messages.
        assert await _cluster_id(bootstrap) == cluster_id
        assert sorted(await _read_all(bootstrap, topic, len(first))) == sorted(first)

        broker.kill()  # SIGKILL: the logs are recovered on the next start
        assert not broker.running(1)
        broker.start()
        assert await _cluster_id(bootstrap) == cluster_id
        more = [f"c{i}" for i in range(5)]
        await _produce(bootstrap, topic, more)
        assert sorted(await _read_all(bootstrap, topic, 45)) == sorted(first + more)

        with pytest.raises(RuntimeError, match="is running; stop the cluster first"):
            broker.wipe()
        assert (work / "cluster.conf").exists()
    assert not work.exists()  # stopped, then wiped by the explicit command
