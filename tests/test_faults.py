"""Faults on the real servers, black-box: nothing is lost.

Cases go through the public API at a steady pace while a fault lasts; a third of them are
resolved, the rest expire on a short TTL. Afterwards every partner must hold, for every alert:
its Alert, then its Cancel or its expiry — each version under one webhook-id (a duplicate is
the same message again), each alert's versions in order, nothing after its Cancel; and
nothing at all of an alert whose case was resolved before the engine got to issue it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, text

from services.testbed.backing_servers import KafkaCluster
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.production import Processes, production_stack, wait_ready
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.db import create_engine
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CASES = 12
TTL_S = 25  # each test waits until every alert has ended: the ones not resolved expire
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


TAKE_DOWN = {"cancelled": "alert.cancelled", "expired": "alert.expired"}


def _complete(partner: PartnerEndpoint, ended: dict[str, str]) -> bool:
    """Every alert taken down at this partner the way it ended: a Cancel if the child was
    found while it was up, else its expiry. (A take-down replaces an Alert still waiting,
    so a partner that was away may never get the Alert of a case that ended meanwhile — by
    design.)"""
    seen = _seen(partner)
    return all(TAKE_DOWN[state] in seen[a] for a, state in ended.items())


async def _ended(
    procs: Processes, alerts: list[str], found: dict[str, str]
) -> tuple[dict[str, str], set[str]]:
    """How each alert ended ('cancelled' or 'expired'), once none is active any more; and the
    alerts of ``found`` cases (alert id: report id) never issued, their resolution fetched
    right behind their approval (the engine caught up after the fault) and so known before
    the Alert went out, or approved ones whose approval reached the engine only after the
    alert's window had closed (an outage longer than ``TTL_S``: kept as expired, never
    published, nothing to take down). Under load a case resolved late may have expired
    first: the database says which came first."""
    engine = create_engine(procs.env["TIFLI_DATABASE_URL"])
    try:
        async with asyncio.timeout(TTL_S + 60):
            while True:
                async with engine.connect() as connection:
                    rows = (
                        await connection.execute(text("SELECT id, state, sequence FROM alerts"))
                    ).all()
                    closed = set(
                        await connection.scalars(text("SELECT report_id FROM closed_reports"))
                    )
                unpublished = {
                    a for a, state, sequence in rows if (state, sequence) == ("expired", 0)
                }
                states = {
                    alert_id: state
                    for alert_id, state, _ in rows
                    if alert_id in alerts and alert_id not in unpublished
                }
                never = {a for a, r in found.items() if a not in states and r in closed}
                never |= unpublished & set(alerts)
                if len(states) + len(never) == len(alerts) and "active" not in states.values():
                    return states, never
                await asyncio.sleep(0.5)  # no change feed to await on a table
    finally:
        await engine.dispose()


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
    """POSTs these partners received that the attempts log does not show with the partner's
    answer (a drain that lost one), once no delivery is in flight any more."""
    engine = create_engine(procs.env["TIFLI_DATABASE_URL"])
    urls = [p.url for p in partners]
    answered = text(
        "SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id"
        " JOIN partners p ON p.id = d.partner_id"
        " WHERE a.status_code IS NOT NULL AND p.url IN :urls"
    ).bindparams(bindparam("urls", expanding=True))
    try:
        async with asyncio.timeout(60):
            while True:
                async with engine.connect() as connection:
                    sending = await connection.scalar(
                        text("SELECT count(*) FROM deliveries WHERE status = 'sending'")
                    )
                    recorded = await connection.scalar(answered, {"urls": urls})
                if not sending:
                    break
                await asyncio.sleep(0.2)  # no change feed to await on a table
    finally:
        await engine.dispose()
    return sum(len(p.received) for p in partners) - int(recorded or 0)


async def _what_is_missing(
    procs: Processes, partners: list[PartnerEndpoint], ended: dict[str, str]
) -> str:
    lines = []
    for n, partner in enumerate(partners):
        seen = _seen(partner)
        lines += [
            f"partner {n}: {a[:8]} {state} got {sorted(seen[a])}"
            for a, state in ended.items()
            if TAKE_DOWN[state] not in seen[a]
        ]
    engine = create_engine(procs.env["TIFLI_DATABASE_URL"])
    async with engine.connect() as connection:
        for query in (
            "SELECT id, state, expires FROM alerts",
            "SELECT alert_id, sequence, event_type, status, attempts, next_attempt_at, deadline"
            " FROM deliveries WHERE status != 'delivered'",
            "SELECT topic, key, event_type, published_at FROM outbox WHERE published_at IS NULL",
        ):
            lines += [str(row) for row in (await connection.execute(text(query))).all()]
    await engine.dispose()
    return "\n".join(lines) + "\n" + procs.log_text()[-6000:]


async def _drive(
    stack: Stack, procs: Processes, partners: list[PartnerEndpoint], fault: Fault
) -> tuple[dict[str, str], float]:
    """Submit and approve CASES cases, then resolve every third; returns how each alert
    ended and how long after the last approval every partner had everything."""
    alerts: list[str] = []
    found: dict[str, str] = {}  # alert id: report id
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
            alerts.append(approved.json()["alert_id"])
            if n % 3 == 0:
                found[approved.json()["alert_id"]] = report_id
            await asyncio.sleep(0.25)  # a steady pace: the fault happens mid-stream
        await fault(CASES)
        for report_id in found.values():  # children found: their alerts come down at once
            done = await police.post(f"/v1/reports/{report_id}/resolve", json={})
            assert done.status_code == 200, done.text
    last_approval = time.monotonic()
    ended, never_issued = await _ended(procs, alerts, found)
    assert "cancelled" in ended.values(), "no child found while the alert was up"
    try:
        async with asyncio.timeout(90):
            for partner in partners:
                while not _complete(partner, ended):
                    await partner.wait_for(len(partner.received) + 1, timeout=90)
    except TimeoutError:
        raise AssertionError(await _what_is_missing(procs, partners, ended)) from None
    # A child found before the alert went out: no partner was ever sent it.
    assert not any(never_issued & set(_seen(partner)) for partner in partners)
    return ended, time.monotonic() - last_approval


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
            await stack.register_partner(partner)
        slow.delay_s = 2.0
        outage = AsyncExitStack()

        async def fault(n: int) -> None:
            if n == 2:  # a partner answering 503 and one refusing connections, for a while
                failing.failing_with = 503
                await outage.enter_async_context(refusing.offline())
            if n == 8:
                failing.failing_with = None
                await outage.aclose()

        alerts, settled_s = await _drive(stack, procs, [healthy, failing, refusing, slow], fault)
        # (Not the refusing partner: a POST it took as it went offline may have lost its
        # answer on the way back — recorded as a failed attempt, and sent again, same id.)
        unrecorded = await _unrecorded(procs, [healthy, failing, slow])

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
        await stack.register_partner(partner)
        down: dict[str, float] = {}

        async def fault(n: int) -> None:
            if n == 3:
                await asyncio.to_thread(kafka.kill, *kafka.nodes)
                down["at"] = time.monotonic()
            if n == 9:
                # The outbox carried the reports (every submission above was a 201).
                await asyncio.to_thread(kafka.start)
                down["for"] = time.monotonic() - down["at"]

        _, settled_s = await _drive(stack, procs, [partner], fault)
        await wait_ready(stack, procs)
        assert all(p.poll() is None for p in procs.running.values())
        log_lines = {name: len(procs.log_of(name).splitlines()) for name in procs.running}
    _check_order_and_ids(partner)
    print(
        f"broker down {down['for']:.1f} s: partner complete {settled_s:.1f} s after the last "
        f"approval; log lines per process {log_lines}"
    )


async def test_sigterm_of_the_relay_while_the_broker_is_down_ends_it_and_loses_nothing(
    postgres_url: str, kafka: KafkaCluster, tmp_path: Path
) -> None:
    """The relay's pass waited for the broker to acknowledge the events it handed over, which
    it cannot while it is down: a SIGTERM waited as long as the outage, past any supervisor's
    grace period. The stop cuts the pass short; its events stay in the outbox and go out once
    the broker and a relay are back."""
    if not kafka.managed:
        pytest.fail(
            "this fault test needs a broker the suite started (KAFKA_BOOTSTRAP_SERVERS unset)"
        )
    async with (
        partner_endpoint() as partner,
        # The alert's window outlasts the outage (SETTINGS' closes within it).
        production_stack(postgres_url, kafka.bootstrap, tmp_path) as (stack, procs),
    ):
        await stack.register_partner(partner)
        await asyncio.to_thread(kafka.kill, *kafka.nodes)
        try:
            async with (
                stack.client("submitter") as police,
                stack.client("reviewer") as reviewer,
            ):
                filed = await police.post("/v1/reports", json=report_body())
                approved = await reviewer.post(
                    f"/v1/reports/{filed.json()['id']}/approve", json=CRITERIA
                )
                assert approved.status_code == 200, approved.text
            async with httpx.AsyncClient(timeout=10) as probe:
                # In a pass: a relay that is not passes every second at least.
                await eventually(
                    partial(probe.get, f"{procs.ops_urls['relay']}/readyz"),
                    lambda r: r.json()["loops"]["outbox-relay"]["last_pass_age_s"] > 3,
                )
            stopped = await asyncio.to_thread(procs.stop, "relay", timeout=25)
        finally:
            await asyncio.to_thread(kafka.start)
        procs.start("relay")
        received = await partner.wait_for(1, timeout=60)
    assert stopped == 0
    assert [json.loads(r.body)["type"] for r in received] == ["alert.issued"]


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
        await stack.register_partner(partner)
        partner.delay_s = 0.3  # POSTs are in flight when the signal comes
        order = ["dispatcher", "alert-engine", "relay", "dispatcher"]
        exits: list[int] = []

        async def fault(n: int) -> None:
            if 2 <= n < 2 + len(order):
                role = order[n - 2]
                exits.append(await asyncio.to_thread(procs.stop, role, sig=signal.SIGTERM))
                procs.start(role)
                await wait_ready(stack, procs)  # operators stop running services

        _, settled_s = await _drive(stack, procs, [partner], fault)
        await wait_ready(stack, procs)
        unrecorded = await _unrecorded(procs, [partner])
    assert exits == [0] * len(order)
    _check_order_and_ids(partner)
    # Drained, not dropped: every POST the partner got is in the attempts log.
    assert unrecorded == 0
    print(f"SIGTERM of each worker: partner complete {settled_s:.1f} s after the last approval")
