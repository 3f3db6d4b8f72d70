"""``tifli reports reconcile``: after a database restore, the cases resolved, cancelled,
rejected or erased since the backup are so again, through the API's own use cases (their
events, their audit entries), as the report events on Kafka since the backup say; run
again, it changes nothing."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.models import AuditEntry, Report
from services.components import ALL_ROLES
from services.testbed.production import (
    Processes,
    migrated_database,
    production_stack,
    wait_ready,
)
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.bus.kafka import ensure_topics
from shared.db import create_engine, session_factory
from shared.events import REPORTS, ReportClosedData, ReportResolved, serialize_event
from shared.outbox import OutboxEvent
from shared.relay_leadership import asyncpg_dsn
from shared.sealing import Sealer
from tests.services.cli_runner import Done, tifli
from tests.waiting import eventually

_NOT_THERE = "not in the database (filed after the backup): nothing to do"


@pytest.mark.kafka
@pytest.mark.postgres
async def test_a_restored_database_has_the_acts_since_its_backup_done_again(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with production_stack(postgres_url, kafka_bootstrap, tmp_path) as (stack, processes):
        live = processes.env["TIFLI_DATABASE_URL"]
        async with stack.clients("submitter", "reviewer") as (police, reviewer):

            async def filed(*, approved: bool = True) -> str:
                report_id = str((await police.post("/v1/reports", json=report_body())).json()["id"])
                if approved:
                    done = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
                    assert done.status_code == 200, done.text
                return report_id

            found, withdrawn, found_then_erased, still_open = [await filed() for _ in range(4)]
            erased = await filed()
            assert (await police.post(f"/v1/reports/{erased}/resolve", json={})).status_code == 200
            turned_down = await filed(approved=False)
            await _all_published(stack)

            since = datetime.now(UTC)
            backup = await _backup(postgres_url, live, processes)
            await _start(processes, stack, ALL_ROLES)

            # After the backup: the acts the restore will undo, and a case it never had.
            after = await filed()
            acts = [
                (police, found, "resolve", {}),
                (reviewer, withdrawn, "cancel", {"reason": "Filed twice."}),
                (police, found_then_erased, "resolve", {}),
                (reviewer, found_then_erased, "erase", None),
                (reviewer, erased, "erase", None),
                (reviewer, turned_down, "reject", {"reason": "No risk."}),
                (police, after, "resolve", {}),
            ]
            for client, report_id, act, body in acts:
                done = await client.post(f"/v1/reports/{report_id}/{act}", json=body)
                assert done.status_code == 200, done.text
            await _all_published(stack)

        # The restore, in the README's order: the API and the relay on the backup first.
        await asyncio.to_thread(processes.stop_all)
        processes.env["TIFLI_DATABASE_URL"] = backup
        await _start(processes, stack, ("intake-api", "relay"))
        kafka = {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "TIFLI_TOPIC_PREFIX": processes.env["TIFLI_TOPIC_PREFIX"],
            "TIFLI_DATA_KEY": processes.env["TIFLI_DATA_KEY"],
        }
        engine = create_engine(backup)
        sessions = session_factory(engine)
        try:
            async with sessions() as session:
                last_event, _ = await _written(session)
                assert await session.get(Report, after) is None
            first = await _reconcile(backup, since, kafka)
            assert first.returncode == 0, first.stderr
            *lines, summary = first.stdout.splitlines()
            assert sorted(lines) == sorted(
                [
                    f"{found} resolved",
                    f"{withdrawn} cancelled",
                    f"{found_then_erased} resolved, erased",
                    f"{erased} erased",
                    f"{turned_down} rejected",
                    f"{after} {_NOT_THERE}",
                ]
            )
            assert summary.startswith("6 cases closed or erased since ")
            assert summary.endswith(": 5 acted on, 0 already so in the database, 1 not in it")

            async with sessions() as session:
                reports = {
                    r.id: r
                    for r in await session.scalars(
                        select(Report).where(
                            Report.id.in_(
                                [
                                    found,
                                    withdrawn,
                                    found_then_erased,
                                    erased,
                                    turned_down,
                                    still_open,
                                ]
                            )
                        )
                    )
                }
                events = Counter(
                    (row.key, row.event_type)
                    for row in await session.scalars(
                        select(OutboxEvent).where(OutboxEvent.id > last_event)
                    )
                )
                audited = Counter(
                    (row.report_id, row.action)
                    for row in await session.scalars(
                        select(AuditEntry).where(AuditEntry.key_id == "reconcile")
                    )
                )
            assert {i: r.status for i, r in reports.items()} == {
                found: "resolved",
                withdrawn: "cancelled",
                found_then_erased: "resolved",
                erased: "resolved",
                turned_down: "rejected",
                still_open: "approved",  # nothing since the backup: left alone
            }
            assert {i for i, r in reports.items() if r.erased_at} == {found_then_erased, erased}
            assert all(
                "Amina" not in reports[i].public_data and not reports[i].sealed_data
                for i in (found_then_erased, erased)
            )
            # The events and audit entries of the acts by hand: the engine takes the alerts
            # down, and forgets the erased children, from those events.
            assert events == Counter(
                [
                    (found, "report.resolved"),
                    (withdrawn, "report.cancelled"),
                    (found_then_erased, "report.resolved"),
                    (found_then_erased, "report.erased"),
                    (erased, "report.erased"),
                    (turned_down, "report.rejected"),
                ]
            )
            assert audited == Counter(
                [
                    (found, "resolve"),
                    (withdrawn, "cancel"),
                    (found_then_erased, "resolve"),
                    (found_then_erased, "erase"),
                    (erased, "erase"),
                    (turned_down, "reject"),
                ]
            )

            # Run again, once its own events are on the topic too: nothing left to do.
            await _all_published(stack)
            async with sessions() as session:
                written = await _written(session)
            second = await _reconcile(backup, since, kafka)
            assert second.returncode == 0, second.stderr
            line, summary = second.stdout.splitlines()
            assert line == f"{after} {_NOT_THERE}"
            assert summary.endswith(": 0 acted on, 5 already so in the database, 1 not in it")
            async with sessions() as session:
                assert await _written(session) == written
        finally:
            await engine.dispose()


@pytest.mark.kafka
@pytest.mark.postgres
async def test_events_kafka_no_longer_keeps_are_said(
    postgres_url: str, kafka_bootstrap: str
) -> None:
    """The topic's retention deleted its oldest events, and the first one kept is after
    ``--since``: some deleted ones may have been after the backup. Said, exit code 1, where
    the command would otherwise report every case done."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}.{REPORTS}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=1, replication_factor=1)
    since = datetime.now(UTC)
    gone, kept = str(uuid.uuid4()), str(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for case in (gone, kept):
            event = ReportResolved(
                source="test", subject=case, data=ReportClosedData(report_id=case, closed_at=since)
            )
            await producer.send_and_wait(topic, serialize_event(event), key=case.encode())
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(before_offset=1)})
    finally:
        await admin.close()

    database = await migrated_database(postgres_url, os.environ)
    done = await _reconcile(
        database,
        since,
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "TIFLI_TOPIC_PREFIX": prefix,
            "TIFLI_DATA_KEY": Sealer.new_key(),
        },
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == f"{kept} {_NOT_THERE}"
    assert f"partition 0 of {topic} keeps no event from before " in done.stderr
    assert gone not in done.stdout + done.stderr


async def test_the_embedded_mode_is_told_it_keeps_no_events_to_reconcile_from(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tifli.db'}"
    assert (await tifli(url, "events", "unfinished", "--init")).returncode == 0
    done = await tifli(url, "reports", "reconcile", "--since", "2026-03-14T02:00:00Z")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "the embedded mode keeps its events in its database only" in done.stderr
    assert "TIFLI_KAFKA_BOOTSTRAP_SERVERS" in done.stderr


async def _reconcile(database_url: str, since: datetime, env: dict[str, str]) -> Done:
    return await tifli(database_url, "reports", "reconcile", "--since", since.isoformat(), **env)


async def _written(session: AsyncSession) -> tuple[int, int]:
    """The newest outbox event's id, and how many audit entries name the command."""
    newest = await session.scalar(select(func.max(OutboxEvent.id)))
    audited = await session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.key_id == "reconcile")
    )
    return int(newest or 0), int(audited or 0)


async def _all_published(stack: Stack) -> None:
    """Until the API's outbox holds nothing unpublished: every act so far is on the topic."""
    async with httpx.AsyncClient(timeout=10) as probe:
        await eventually(
            lambda: probe.get(f"{stack.base_url}/readyz"),
            lambda r: r.json()["outbox"]["unpublished"] == 0,
            timeout=60,
        )


async def _backup(server_url: str, live: str, processes: Processes) -> str:
    """A copy of ``live`` as it is now, the services stopped for it (PostgreSQL copies a
    database no one is connected to): what a restore of a backup taken now brings back."""
    await asyncio.to_thread(processes.stop_all)
    name = live.rsplit("/", 1)[1]
    copy = f"{name}_backup"
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await eventually(
            lambda: connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
            ),
            lambda connected: connected == 0,
            timeout=30,
        )
        await connection.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    finally:
        await connection.close()
    return live.rsplit("/", 1)[0] + "/" + copy


async def _start(processes: Processes, stack: Stack, roles: tuple[str, ...]) -> None:
    for role in roles:
        processes.start(role)
    await wait_ready(stack, processes)
