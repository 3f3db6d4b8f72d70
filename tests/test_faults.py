"""Faults on the real servers, black-box (brief §7, "nothing lost").

Cases go through the public API at a steady pace while a fault lasts; a third of them are
resolved, the rest expire on a short TTL. Afterwards every partner must hold, for every alert:
its Alert, then its Cancel or its expiry — each version under one webhook-id (a duplicate is
the same message again), each alert's versions in order, nothing after its Cancel.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from shared.db import create_engine
from tests.conftest import CRITERIA, Stack, report_body
from tests.flows import register_partner
from tests.partner_server import PartnerEndpoint, partner_endpoint
from tests.production import Processes, production_stack, wait_ready
from tests.servers import KafkaCluster

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CASES = 12
TTL_S = 40
SETTINGS = {
    "TIFLI_ALERT_TTL_HOURS": str(TTL_S / 3600),
    "TIFLI_WEBHOOK_RETRY_SCHEDULE_S": "[0, 1, 2, 4, 8]",
    "TIFLI_WEBHOOK_TIMEOUT_S": "5",
    "TIFLI_DELIVERY_LEASE_S": "8",
    "TIFLI_TIMER_POLL_INTERVAL_S": "0.5",
}

Fault = Callable[[int], Awaitable[None]]  # called before case n is submitted


def _versions(partner: PartnerEndpoint) -> list[dict[str, Any]]:
    return [{**json.loads(r.body), "webhook_id": r.headers["webhook-id"]} for r in partner.received]


def _seen(partner: PartnerEndpoint) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = defaultdict(set)
    for v in _versions(partner):
        seen[v["alert"]["alert_id"]].add(v["type"])
    return seen


def _complete(partner: PartnerEndpoint, alerts: dict[str, bool]) -> bool:
    """Every alert taken down at this partner: cancelled if resolved, else expired. (A
    take-down replaces an Alert still waiting, so a partner that was away may never get
    the Alert of a case that ended meanwhile — by design.)"""
    seen = _seen(partner)
    return all(
        ("alert.cancelled" if resolved else "alert.expired") in seen[a]
        for a, resolved in alerts.items()
    )


def _check_order_and_ids(partner: PartnerEndpoint) -> None:
    ids_per_version: dict[tuple[str, int], set[str]] = defaultdict(set)
    bodies_per_id: dict[str, set[str]] = defaultdict(set)
    sequences: dict[str, list[int]] = defaultdict(list)
    cancelled: set[str] = set()
    for v in _versions(partner):
        alert_id, sequence = v["alert"]["alert_id"], v["alert"]["sequence"]
        assert alert_id not in cancelled or v["type"] == "alert.cancelled", "after its Cancel"
        if v["type"] == "alert.cancelled":
            cancelled.add(alert_id)
        ids_per_version[(alert_id, sequence)].add(v["webhook_id"])
        bodies_per_id[v["webhook_id"]].add(json.dumps(v, sort_keys=True))
        sequences[alert_id].append(sequence)
    assert all(len(ids) == 1 for ids in ids_per_version.values()), "a version under two ids"
    assert all(len(b) == 1 for b in bodies_per_id.values()), "one id, two messages"
    assert all(s == sorted(s) for s in sequences.values()), sequences


async def _unrecorded(procs: Processes, partners: list[PartnerEndpoint]) -> int:
    """POSTs a partner received that the attempts log does not show (a drain that lost one).
    A POST still in flight at the end counts too: the run waited until everything settled."""
    engine = create_engine(procs.env["TIFLI_DATABASE_URL"])
    async with engine.connect() as connection:
        recorded = await connection.scalar(text("SELECT count(*) FROM delivery_attempts"))
    await engine.dispose()
    return sum(len(p.received) for p in partners) - int(recorded or 0)


async def _drive(
    stack: Stack, partners: list[PartnerEndpoint], fault: Fault
) -> tuple[dict[str, bool], float]:
    """Submit and approve CASES cases, then resolve every third; returns {alert: resolved}
    and how long after the last approval every partner had everything."""
    alerts: dict[str, bool] = {}
    found: list[str] = []
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        for n in range(CASES):
            await fault(n)
            created = await police.post(
                "/v1/reports", json=report_body(), headers={"Idempotency-Key": f"case-{n}"}
            )
            assert created.status_code == 201, created.text
            report_id = created.json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
            alerts[approved.json()["alert_id"]] = n % 3 == 0
            if n % 3 == 0:
                found.append(report_id)
            await asyncio.sleep(0.25)  # a steady pace: the fault happens mid-stream
        await fault(CASES)
        for report_id in found:  # children found: their alerts come down at once
            done = await police.post(f"/v1/reports/{report_id}/resolve", json={})
            assert done.status_code == 200, done.text
    last_approval = time.monotonic()
    async with asyncio.timeout(TTL_S + 90):
        for partner in partners:
            while not _complete(partner, alerts):
                await partner.wait_for(len(partner.received) + 1, timeout=TTL_S + 90)
    return alerts, time.monotonic() - last_approval


async def test_partners_failing_refusing_and_slow_delay_no_one_and_catch_up(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with AsyncExitStack() as running:
        healthy, failing, refusing, slow = [
            await running.enter_async_context(partner_endpoint()) for _ in range(4)
        ]
        stack, procs = await running.enter_async_context(
            production_stack(postgres_url, kafka_bootstrap, tmp_path, settings=SETTINGS)
        )
        for partner in (healthy, failing, refusing, slow):
            await register_partner(stack, partner.url, partner.verify_token)
        slow.delay_s = 2.0
        outage = AsyncExitStack()

        async def fault(n: int) -> None:
            if n == 2:  # a partner answering 503 and one refusing connections, for a while
                failing.failing_with = 503
                await outage.enter_async_context(refusing.offline())
            if n == 8:
                failing.failing_with = None
                await outage.aclose()

        alerts, settled_s = await _drive(stack, [healthy, failing, refusing, slow], fault)
        unrecorded = await _unrecorded(procs, [healthy, failing, refusing, slow])

    # Every partner got everything, in order, one id per version.
    for partner in (healthy, failing, refusing, slow):
        _check_order_and_ids(partner)
    assert all(_seen(healthy)[a] >= {"alert.issued"} for a in alerts)
    # The faulty and the slow partners held no one back: the healthy one needed no retry.
    healthy_ids = [r.headers["webhook-id"] for r in healthy.received]
    assert len(healthy_ids) == len(set(healthy_ids))
    assert failing.received and unrecorded == 0
    print(f"partner faults: every partner complete {settled_s:.1f} s after the last approval")


async def test_broker_kill_9_and_restart_mid_stream(
    postgres_url: str, kafka: KafkaCluster, tmp_path: Path
) -> None:
    if not kafka.managed:
        pytest.fail(
            "this fault test needs a broker the suite started (KAFKA_BOOTSTRAP_SERVERS unset)"
        )
    async with (
        partner_endpoint() as partner,
        production_stack(postgres_url, kafka.bootstrap, tmp_path, settings=SETTINGS) as (
            stack,
            procs,
        ),
    ):
        await register_partner(stack, partner.url, partner.verify_token)
        down: dict[str, float] = {}

        async def fault(n: int) -> None:
            if n == 3:
                await asyncio.to_thread(kafka.kill, *kafka.nodes)
                down["at"] = time.monotonic()
            if n == 9:
                # The outbox carried the reports (every submission above was a 201).
                await asyncio.to_thread(kafka.start)
                down["for"] = time.monotonic() - down["at"]

        _, settled_s = await _drive(stack, [partner], fault)
        await wait_ready(stack, procs)
        assert all(p.poll() is None for p in procs.running.values())
        log_lines = {name: len(procs.log_of(name).splitlines()) for name in procs.running}
    _check_order_and_ids(partner)
    print(
        f"broker down {down['for']:.1f} s: partner complete {settled_s:.1f} s after the last "
        f"approval; log lines per process {log_lines}"
    )


async def test_sigterm_of_each_service_mid_stream_loses_and_forgets_nothing(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with (
        partner_endpoint() as partner,
        production_stack(postgres_url, kafka_bootstrap, tmp_path, settings=SETTINGS) as (
            stack,
            procs,
        ),
    ):
        await register_partner(stack, partner.url, partner.verify_token)
        partner.delay_s = 0.3  # POSTs are in flight when the signal comes
        order = ["dispatcher", "alert-engine", "relay", "dispatcher"]
        exits: list[int] = []

        async def fault(n: int) -> None:
            if 2 <= n < 2 + len(order):
                role = order[n - 2]
                exits.append(await asyncio.to_thread(procs.stop, role, sig=signal.SIGTERM))
                procs.start(role)

        _, settled_s = await _drive(stack, [partner], fault)
        await wait_ready(stack, procs)
        unrecorded = await _unrecorded(procs, [partner])
    assert exits == [0] * len(order)
    _check_order_and_ids(partner)
    # Drained, not dropped: every POST the partner got is in the attempts log.
    assert unrecorded == 0
    print(f"SIGTERM of each worker: partner complete {settled_s:.1f} s after the last approval")
