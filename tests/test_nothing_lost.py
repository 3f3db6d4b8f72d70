"""Crashes lose nothing: with two of every worker, kill -9 one of each mid-stream,
and every approved case still reaches the partner; duplicates only with the same webhook-id."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from services.testbed.partner import partner_endpoint
from services.testbed.production import Processes, production_stack
from services.testbed.sample_report import CRITERIA, report_body
from shared.db import create_engine
from shared.events import REPORTS
from tests.flows import an_approved_case
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
CASES = 24


async def _where_are(procs: Processes, alert_ids: list[str]) -> str:
    """What the database says of alerts that never arrived: to tell which stage held them."""
    engine = create_engine(procs.env["TIFLI_DATABASE_URL"])
    lines = []
    async with engine.connect() as connection:
        for alert_id in alert_ids:
            for query in (
                "SELECT id, status FROM reports WHERE alert_id = :a",
                "SELECT topic, published_at, attempts FROM outbox WHERE key = :a",
                "SELECT state, sequence FROM alerts WHERE id = :a",
                "SELECT status, attempts, lease_until FROM deliveries WHERE alert_id = :a",
            ):
                rows = (await connection.execute(text(query), {"a": alert_id})).all()
                lines.append(f"{alert_id} {query.split()[3]}: {rows}")
    await engine.dispose()
    return "\n".join(lines) + "\n" + procs.log_text()[-6000:]


async def test_kill_9_of_each_worker_mid_stream(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    replicas = {"relay": 2, "alert-engine": 2, "dispatcher": 2}
    async with (
        partner_endpoint() as partner,
        production_stack(
            postgres_url,
            kafka_bootstrap,
            tmp_path,
            replicas=replicas,
            TIFLI_WEBHOOK_TIMEOUT_S="2",
            TIFLI_DELIVERY_LEASE_S="3",
        ) as (stack, procs),
    ):
        await stack.register_partner(partner)
        alert_ids = []
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            for n in range(CASES):
                if n == CASES // 3:
                    leader = next(
                        name
                        for name in ("relay-1", "relay-2")
                        if "this relay is now the active one" in procs.log_of(name)
                    )
                    for victim in (leader, "alert-engine-1", "dispatcher-1"):
                        procs.kill(victim)
                if n == 2 * CASES // 3:
                    procs.start("alert-engine", "alert-engine-3")  # a replacement joins
                created = await police.post("/v1/reports", json=report_body())
                assert created.status_code == 201, created.text
                approved = await reviewer.post(
                    f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA
                )
                assert approved.status_code == 200, approved.text
                alert_ids.append(approved.json()["alert_id"])

        def issued() -> set[str]:
            return {
                json.loads(r.body)["alert"]["alert_id"]
                for r in partner.received
                if json.loads(r.body)["type"] == "alert.issued"
            }

        # Kafka moves a dead consumer's partitions after its session time-out (10 s).
        try:
            async with asyncio.timeout(240):
                while issued() != set(alert_ids):
                    await partner.wait_for(len(partner.received) + 1, timeout=240)
        except TimeoutError:
            missing = sorted(set(alert_ids) - issued())
            raise AssertionError(
                f"never delivered: {missing}\n{await _where_are(procs, missing)}"
            ) from None

    bodies: dict[str, set[bytes]] = defaultdict(set)
    ids_per_version: dict[tuple[str, int], set[str]] = defaultdict(set)
    for r in partner.received:
        bodies[r.headers["webhook-id"]].add(r.body)
        alert = json.loads(r.body)["alert"]
        ids_per_version[(alert["alert_id"], alert["sequence"])].add(r.headers["webhook-id"])
    assert issued() == set(alert_ids)
    assert all(len(b) == 1 for b in bodies.values())  # a duplicate is the same message
    assert all(len(ids) == 1 for ids in ids_per_version.values())  # one id per version


async def test_an_alert_in_flight_when_its_sender_dies_is_not_sent_after_its_cancel(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The child is found while the Alert's POST hangs; its Cancel waits behind it (order per
    partner), and the dispatcher dies. When the lease runs out, the partner gets the Cancel —
    not the Alert again, then the Cancel."""
    # Longer than the POST's time-out (10 s), as it must be: the POST hangs until the
    # dispatcher is killed, which must come first.
    lease_s = 12
    async with (
        partner_endpoint() as partner,
        production_stack(
            postgres_url, kafka_bootstrap, tmp_path, TIFLI_DELIVERY_LEASE_S=str(lease_s)
        ) as (stack, procs),
    ):
        await stack.register_partner(partner)
        async with (
            stack.client("submitter") as police,
            stack.client("reviewer") as reviewer,
            partner.holding(),
        ):
            report, alert_id = await an_approved_case(police, reviewer)
            await partner.wait_held(1, timeout=30)
            assert (await police.post(f"{report}/resolve")).status_code == 200
            await eventually(
                lambda: stack.deliveries(alert_id=alert_id, status="pending"),
                lambda items: [d["event_type"] for d in items] == ["alert.cancelled"],
                timeout=30,
            )
            procs.kill("dispatcher")  # mid-POST: the Alert stays leased to a dead sender
        procs.start("dispatcher", "dispatcher-2")
        try:
            [took_down] = await partner.wait_for(1, timeout=60)
        except TimeoutError:
            raise AssertionError(await _where_are(procs, [alert_id])) from None
        assert json.loads(took_down.body)["type"] == "alert.cancelled"
        # The Cancel's outcome is recorded just after the partner answers.
        by_version = await eventually(
            lambda: stack.deliveries(alert_id=alert_id),
            lambda items: {d["status"] for d in items} <= {"superseded", "delivered"},
        )
        assert sorted((d["sequence"], d["event_type"], d["status"]) for d in by_version) == [
            (1, "alert.issued", "superseded"),
            (2, "alert.cancelled", "delivered"),
        ]
        assert len(partner.received) == 1


async def test_a_case_erased_while_the_relay_is_down_never_reaches_a_partner(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The relay is down while a case is approved, resolved (the child found) and erased at
    once by an operator: its approval, still waiting in the outbox, went out behind the
    erasure, and the partner showed the erased child's alert until its Cancel. Now it never
    goes out: the engine meets the case closed, and the broker never has a copy of it."""
    async with (
        partner_endpoint() as partner,
        production_stack(postgres_url, kafka_bootstrap, tmp_path) as (stack, procs),
    ):
        await stack.register_partner(partner)
        procs.kill("relay")
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            found, found_alert = await an_approved_case(police, reviewer)
            assert (await police.post(f"{found}/resolve")).status_code == 200
            assert (await reviewer.post(f"{found}/erase")).status_code == 200
            procs.start("relay")
            # A case approved once the relay is back goes out: the pipeline is at work.
            _, live_alert = await an_approved_case(police, reviewer)
            await partner.wait_for(1, timeout=120)
        found_id = found.rsplit("/", 1)[1]
        await _closed_without_an_alert(procs.env["TIFLI_DATABASE_URL"], found_id)
        topic = f"{procs.env['TIFLI_TOPIC_PREFIX']}.{REPORTS}"
        on_the_topic = await _event_types_of(kafka_bootstrap, topic, found_id)
    sent = {json.loads(r.body)["alert"]["alert_id"] for r in partner.received}
    assert sent == {live_alert}
    assert found_alert not in sent
    # Nor did the broker get a copy of it, kept for its own retention after the erasure.
    assert "report.approved" not in on_the_topic
    assert on_the_topic[-2:] == ["report.resolved", "report.erased"]


async def _closed_without_an_alert(database_url: str, report_id: str) -> None:
    """Until the engine records the case closed; then, that it never had an alert."""
    engine = create_engine(database_url)

    async def engine_knows() -> tuple[int, int]:
        async with engine.connect() as connection:
            closed = await connection.scalar(
                text("SELECT count(*) FROM closed_reports WHERE report_id = :r"), {"r": report_id}
            )
            alerts = await connection.scalar(
                text("SELECT count(*) FROM alerts WHERE report_id = :r"), {"r": report_id}
            )
        return int(closed or 0), int(alerts or 0)

    try:
        assert await eventually(engine_knows, lambda known: known[0] == 1) == (1, 0)
    finally:
        await engine.dispose()


async def _event_types_of(bootstrap: str, topic: str, key: str) -> list[str]:
    """The types of the events about ``key`` on ``topic``, in order, read to its end."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    types: list[str] = []
    try:
        async with asyncio.timeout(60):
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                types += [
                    dict(r.headers)["event-type"].decode()
                    for records in batch.values()
                    for r in records
                    if r.key == key.encode()
                ]
                assigned = list(consumer.assignment())  # once the topic's metadata is in
                ends = await consumer.end_offsets(assigned) if assigned else {}
                read = [await consumer.position(p) >= ends[p] for p in assigned]
                if assigned and all(read):
                    return types
    finally:
        await consumer.stop()


async def test_a_case_approved_and_resolved_while_the_engine_is_down_never_goes_up(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The alert engine is down while a case is approved and, minutes later, resolved: the
    child is found. Both events wait in Kafka; back, the engine sees the resolution right
    behind the approval and puts nothing up. (It issued the Alert, and the partner showed the
    found child's name and photo until the Cancel that followed it.)"""
    async with (
        partner_endpoint() as partner,
        production_stack(postgres_url, kafka_bootstrap, tmp_path) as (stack, procs),
    ):
        await stack.register_partner(partner)
        procs.kill("alert-engine")
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            found, found_alert = await an_approved_case(police, reviewer)
            assert (await police.post(f"{found}/resolve")).status_code == 200
            procs.start("alert-engine", "alert-engine-2")
            # A case approved once the engine is back goes out: the engine is at work.
            _, live_alert = await an_approved_case(police, reviewer)
            await partner.wait_for(1, timeout=120)
        # The case closed, as the engine records it; and no alert of it, ever.
        await _closed_without_an_alert(procs.env["TIFLI_DATABASE_URL"], found.rsplit("/", 1)[1])
    sent = {json.loads(r.body)["alert"]["alert_id"] for r in partner.received}
    assert sent == {live_alert}
    assert found_alert not in sent
