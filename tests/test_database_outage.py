"""A database outage stops nothing for good: nothing is lost.

PostgreSQL itself is stopped — the server, not a mock — while a retry and an expiry come due.
During the outage the API says "retry shortly" (503 + Retry-After) and no process is ready;
afterwards, without restarting any Tifli process, the retry goes out, the expiry reaches the
partner, the zone still widens, and every process is ready again. ``immediate`` is a crash:
the restarted server runs recovery, answering "the database system is starting up" (SQLSTATE
57P03) for a while, which must be waited out like any other blip, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.testbed.backing_servers import PostgresServer, StopMode
from services.testbed.loopback import free_port
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.production import (
    Processes,
    fresh_database,
    migrate,
    production_stack,
    wait_ready,
)
from services.testbed.sample_report import CRITERIA, report_body
from shared.db import create_engine
from shared.sealing import Sealer
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

RETRY_IN_S = 4  # the partner's first answer is a 503: the retry comes due in the outage
SHORT_TTL_S = 6  # the second alert expires in the outage
OUTAGE_S = 9
SETTINGS = {
    "TIFLI_WEBHOOK_RETRY_SCHEDULE_S": json.dumps([0, RETRY_IN_S, 1, 1, 1, 1]),
    "TIFLI_WEBHOOK_RETRY_JITTER": "0",
    "TIFLI_TIMER_POLL_INTERVAL_S": "0.5",
    "TIFLI_WIDEN_INTERVAL_MINUTES": "0.1",  # every 6 s
    "TIFLI_WIDEN_MIN_GROWTH": "0",  # any growth is an Update
    "TIFLI_LOOP_STALE_AFTER_S": "30",
    # The service's default TTL, far below what a reviewer may choose: the second alert
    # takes it; the first is approved for a day.
    "TIFLI_ALERT_TTL_HOURS": str(SHORT_TTL_S / 3600),
}


def _payloads(partner: PartnerEndpoint) -> list[dict[str, Any]]:
    return [{**json.loads(r.body), "webhook_id": r.headers["webhook-id"]} for r in partner.received]


async def _submit_and_approve(
    police: httpx.AsyncClient, reviewer: httpx.AsyncClient, **approval: Any
) -> str:
    body = report_body()
    # Seen three hours ago by vehicle: the reach (240 km) is past the floor and still growing,
    # so each widening pass has an Update to send.
    body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    created = await police.post("/v1/reports", json=body)
    assert created.status_code == 201, created.text
    approved = await reviewer.post(
        f"/v1/reports/{created.json()['id']}/approve", json={**CRITERIA, **approval}
    )
    assert approved.status_code == 200, approved.text
    return str(approved.json()["alert_id"])


async def _readiness(urls: list[str]) -> list[tuple[int, int]]:
    """Each server's readiness as a GET and as a HEAD (how load balancers often probe)."""
    async with httpx.AsyncClient(timeout=10) as client:
        return [
            (
                (await client.get(f"{url}/readyz")).status_code,
                (await client.head(f"{url}/readyz")).status_code,
            )
            for url in urls
        ]


async def _where_things_are(partner: PartnerEndpoint, procs: Processes) -> str:
    """What the partner got and what the tables say: to tell which stage held things."""
    received = [
        (p["type"], p["alert"]["alert_id"][:8], p["alert"]["sequence"], p["webhook_id"][:8])
        for p in _payloads(partner)
    ]
    engine = create_engine(procs.env["TIFLI_DATABASE_URL"])
    async with engine.connect() as connection:
        alerts = (await connection.execute(text("SELECT id, state, expires FROM alerts"))).all()
        deliveries = (
            await connection.execute(
                text("SELECT alert_id, sequence, status, attempts, next_attempt_at FROM deliveries")
            )
        ).all()
    await engine.dispose()
    return (
        f"received {received}\nalerts {alerts}\ndeliveries {deliveries}\n"
        + (procs.log_text()[-8000:])
    )


def _warnings_per_process(procs: Processes) -> dict[str, int]:
    counts = {}
    for name in procs.ops_urls | {"intake-api": ""}:
        lines = procs.log_of(name).splitlines()
        counts[name] = sum('"level": "warning"' in x or '"level": "error"' in x for x in lines)
    return counts


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_database_outage_stops_no_retry_expiry_or_widening(
    postgres: PostgresServer, kafka_bootstrap: str, tmp_path: Path, mode: StopMode
) -> None:
    async with (
        partner_endpoint(script=[503]) as partner,
        production_stack(postgres.url, kafka_bootstrap, tmp_path, settings=SETTINGS) as (
            stack,
            procs,
        ),
    ):
        await stack.register_partner(partner)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            retried = await _submit_and_approve(police, reviewer, ttl_hours=24)
            await partner.wait_for(1, timeout=30)  # answered 503: a retry is scheduled
            expiring = await _submit_and_approve(police, reviewer)
            await partner.wait_for(2, timeout=30)

            await asyncio.to_thread(postgres.stop, mode)
            outage_started = time.monotonic()
            try:
                # As a police system meets the outage: "retry shortly", not a bug.
                refused = await police.post(
                    "/v1/reports", json=report_body(), headers={"Idempotency-Key": "outage-1"}
                )
                assert refused.status_code == 503, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                assert int(refused.headers["retry-after"]) > 0
                # Nobody is ready: the API needs its database, the workers too.
                assert (
                    await _readiness([stack.base_url, *procs.ops_urls.values()]) == [(503, 503)] * 4
                )
                # The fault lasts while the retry and the expiry come due.
                await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_started)))
            finally:
                await asyncio.to_thread(postgres.start)
            restarted_at, seen_before = time.monotonic(), len(partner.received)

            def caught_up() -> bool:
                payloads = _payloads(partner)
                first_id = payloads[0]["webhook_id"]
                return (
                    # Retried, same id; sent once more if the database went down as its
                    # answer was being recorded (at least once, one id per version).
                    sum(p["webhook_id"] == first_id for p in payloads) >= 2
                    and any(
                        p["type"] == "alert.expired" and p["alert"]["alert_id"] == expiring
                        for p in payloads
                    )
                    and any(
                        p["type"] == "alert.updated" and p["alert"]["alert_id"] == retried
                        for p in payloads[seen_before:]  # a widening after the outage
                    )
                )

            try:
                async with asyncio.timeout(90):
                    while not caught_up():
                        await partner.wait_for(len(partner.received) + 1, timeout=90)
            except TimeoutError:
                raise AssertionError(await _where_things_are(partner, procs)) from None
            recovered_s = time.monotonic() - restarted_at
            # The same request, retried with its Idempotency-Key, now goes through.
            accepted = await police.post(
                "/v1/reports", json=report_body(), headers={"Idempotency-Key": "outage-1"}
            )
            assert accepted.status_code == 201, accepted.text
        # No process was restarted: every one of them is ready again by itself.
        await wait_ready(stack, procs, timeout=60)
        assert all(p.poll() is None for p in procs.running.values())
        logs = procs.log_text()
        warnings = _warnings_per_process(procs)

    print(f"{mode} stop of {OUTAGE_S} s: caught up {recovered_s:.1f} s after the restart")
    payloads = _payloads(partner)
    # One webhook-id per version, and each alert's versions in order.
    ids_per_version: dict[tuple[str, int], set[str]] = defaultdict(set)
    sequences: dict[str, list[int]] = defaultdict(list)
    for p in payloads:
        key = (p["alert"]["alert_id"], p["alert"]["sequence"])
        ids_per_version[key].add(p["webhook_id"])
        sequences[p["alert"]["alert_id"]].append(p["alert"]["sequence"])
    assert all(len(ids) == 1 for ids in ids_per_version.values())
    assert all(seq == sorted(seq) for seq in sequences.values()), sequences
    # No loop died: a dead task leaves "coroutine … was never awaited" on stderr.
    assert "never awaited" not in logs
    # Quiet: an outage is a few lines per process, not one per failed query.
    assert max(warnings.values()) < 60, warnings


async def test_a_lease_left_by_a_dead_dispatcher_is_taken_over_after_an_outage(
    postgres: PostgresServer, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A dispatcher is killed mid-POST (its delivery leased to it), then the database goes
    down; a second dispatcher started during the outage takes the delivery over once the
    database is back and the lease has run out — same webhook-id, nothing restarted by hand."""
    lease_s = 4
    async with (
        partner_endpoint() as partner,
        production_stack(
            postgres.url,
            kafka_bootstrap,
            tmp_path,
            # The lease outlasts a POST, as it must (the held one ends with its sender).
            settings={
                **SETTINGS,
                "TIFLI_DELIVERY_LEASE_S": str(lease_s),
                "TIFLI_WEBHOOK_TIMEOUT_S": str(lease_s - 1),
            },
        ) as (stack, procs),
    ):
        await stack.register_partner(partner)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            async with partner.holding():
                alert_id = await _submit_and_approve(police, reviewer, ttl_hours=24)
                (caught,) = await partner.wait_held(1, timeout=30)
                procs.kill("dispatcher")  # mid-POST: the attempt is never recorded
            await asyncio.to_thread(postgres.stop, "fast")
            try:
                procs.start("dispatcher", "dispatcher-2")  # comes up while the database is down
                await asyncio.sleep(lease_s + 1)  # the fault lasts past the lease
            finally:
                await asyncio.to_thread(postgres.start)
            restarted_at = time.monotonic()
            try:
                await partner.wait_for(1, timeout=90)
            except TimeoutError:
                raise AssertionError(await _where_things_are(partner, procs)) from None
            took_over_s = time.monotonic() - restarted_at
        await wait_ready(stack, procs, timeout=60)
        assert procs.running["dispatcher-2"].poll() is None  # it waited the outage out

        # The Alert taken over under its webhook-id. (The zone widens every 6 s here: an
        # Update may follow it, a version of its own. And the Alert may come twice under that
        # one id when recording the attempt outlasts half the short lease just after the
        # restart: at-least-once on the wire, as partners are told.)
        first = [r for r in partner.received if json.loads(r.body)["alert"]["sequence"] == 1]
        assert {r.headers["webhook-id"] for r in first} == {caught.headers["webhook-id"]}
        assert json.loads(first[0].body)["alert"]["alert_id"] == alert_id
        engine = create_engine(procs.env["TIFLI_DATABASE_URL"])
        async with engine.connect() as connection:
            status, attempts = (
                await connection.execute(
                    text("SELECT status, attempts FROM deliveries WHERE sequence = 1")
                )
            ).one()
        await engine.dispose()
        assert (status, attempts) == ("delivered", 1)  # the killed attempt left no record
    print(f"lease taken over {took_over_s:.1f} s after the database came back")


async def test_a_worker_started_in_an_outage_waits_for_the_database_and_the_broker(
    postgres: PostgresServer, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Started by a supervisor while the database is down, a worker waits (it brings the
    schema up to date first), then runs once the database is back, with nothing restarted by hand.
    Started against a broker that does not answer, it waits too, and a SIGTERM ends the
    wait at once."""
    database_url = await fresh_database(postgres.url)
    env = {
        **os.environ,
        "TIFLI_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TIFLI_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        "TIFLI_DATA_KEY": Sealer.new_key(),
        "TIFLI_PUBLIC_BASE_URL": "https://alerts.example.org",  # a dispatcher needs it
    }
    await migrate(env)  # the operator's first step: a service never creates a schema
    log = tmp_path / "relay.log"
    ops = f"http://127.0.0.1:{(ops_port := free_port())}"
    await asyncio.to_thread(postgres.stop, "fast")
    try:
        relay = _tifli_run("relay", {**env, "TIFLI_OPS_PORT": str(ops_port)}, log)
        await _logged(log, "waiting for the database")
        assert relay.poll() is None
        # Waiting, it is alive (a liveness probe must not kill it) and says it is not ready.
        async with httpx.AsyncClient(base_url=ops) as probe:
            assert (await probe.get("/healthz")).status_code == 200
            waiting = await probe.get("/readyz")
            # Any other request is "not yet", as an outage is answered later: never a 404.
            early = await probe.post("/v1/reports", json={})
        assert early.status_code == 503 and early.headers["retry-after"] == "5"
        # A problem, as every error the API gives; what it waits for is the operator's.
        assert early.headers["content-type"] == "application/problem+json"
        assert early.json()["status"] == 503 and early.json()["instance"] == "/v1/reports"
        assert "postgresql" not in early.text
        assert waiting.status_code == 503
        assert waiting.json()["waiting_for"].startswith("the database postgresql+asyncpg://")
    finally:
        await asyncio.to_thread(postgres.start)
    try:
        await _logged(log, "tifli relay running", timeout=60)
        assert "answers (waited" in log.read_text()
        async with httpx.AsyncClient(base_url=ops) as probe:  # the service's own health now
            ready = await eventually(lambda: probe.get("/readyz"), _ok, timeout=60)
        assert "waiting_for" not in ready.json()
    finally:
        relay.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(relay.wait, 30) == 0

    silent = f"127.0.0.1:{free_port()}"  # nothing listens there
    log = tmp_path / "dispatcher.log"
    dispatcher = _tifli_run("dispatcher", {**env, "KAFKA_BOOTSTRAP_SERVERS": silent}, log)
    try:
        await _logged(log, f"waiting for the broker {silent}")
        assert dispatcher.poll() is None
    finally:
        dispatcher.send_signal(signal.SIGTERM)
        # Nothing in hand while it waits: stopped as a drain ends, with 0.
        assert await asyncio.to_thread(dispatcher.wait, 30) == 0


def _ok(response: httpx.Response) -> bool:
    return response.status_code == 200


def _tifli_run(role: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", role],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def _logged(log: Path, text: str, timeout: float = 30) -> None:
    async def read() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    await eventually(read, lambda written: text in written, timeout=timeout, interval=0.1)
