"""The same case flow in production mode: Kafka + PostgreSQL, one OS process per service."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import httpx
import pytest

from services.testbed.partner import partner_endpoint
from services.testbed.production import production_stack, wait_for_group
from services.testbed.sample_report import CRITERIA, report_body
from tests.flows import full_case_flow
from tests.metric_samples import sample_value
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_full_case_flow_with_separate_processes(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with production_stack(postgres_url, kafka_bootstrap, tmp_path) as (stack, processes):
        await full_case_flow(stack)
        # A client keeps an idle connection as long as httpx's default (5 s) and reuses it
        # then: the API must not have closed it meanwhile (that request would fail).
        assert await answers_on_one_connection(stack.base_url, idle_s=5.5)
        # SIGTERM: each service finishes the work in hand and exits cleanly.
        for name in list(processes.running):
            assert processes.stop(name) == 0, processes.log_text()[-3000:]
        logs = processes.log_text()
    assert "Amina" not in logs and "Benali" not in logs
    assert "this relay is now the active one" in logs


async def test_two_dispatchers_share_the_work_without_double_sends(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    cases = 30
    async with (
        partner_endpoint() as partner,
        production_stack(postgres_url, kafka_bootstrap, tmp_path, replicas={"dispatcher": 2}) as (
            stack,
            processes,
        ),
    ):
        await stack.register_partner(partner)
        group = f"{processes.env['TIFLI_TOPIC_PREFIX']}.dispatcher"
        await wait_for_group(kafka_bootstrap, group, members=2)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            for _ in range(cases):
                report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
                approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
                assert approved.status_code == 200
        received = await partner.wait_for(cases)
        logs = {name: processes.log_of(name) for name in ("dispatcher-1", "dispatcher-2")}
    ids = [r.headers["webhook-id"] for r in received]
    assert len(ids) == len(set(ids)) == cases  # each message sent once, by one dispatcher
    assert all('"delivery attempt"' in log for log in logs.values()), "both dispatchers worked"


async def answers_on_one_connection(base_url: str, idle_s: float) -> bool:
    """Whether the server at ``base_url`` answers a request, and then another on the same
    connection after it sat idle for ``idle_s``."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    request = f"GET /healthz HTTP/1.1\r\nHost: {url.host}\r\n\r\n".encode()
    try:
        for wait in (0.0, idle_s):
            await asyncio.sleep(wait)
            writer.write(request)
            await writer.drain()
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                await reader.readexactly(length)
            assert head.startswith(b"HTTP/1.1 200"), head
    except (asyncio.IncompleteReadError, ConnectionError):
        return False  # closed by the server
    finally:
        writer.close()
    return True


async def test_a_dead_relay_shows_in_every_processs_readiness(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """With no relay running, what the API takes waits in the outbox: every process's
    /readyz shows how much and for how long (ready all the same: nothing is lost), and so
    does a metric to alert on. Before, nothing said it: the dead relay could not."""
    async with production_stack(postgres_url, kafka_bootstrap, tmp_path) as (stack, procs):
        procs.kill("relay")
        async with stack.client("submitter") as police:
            filed = await police.post("/v1/reports", json=report_body())
            assert filed.status_code == 201, filed.text
        async with httpx.AsyncClient(timeout=10) as probe:
            for url in (stack.base_url, procs.ops_urls["alert-engine"]):
                waiting = await eventually(
                    partial(probe.get, f"{url}/readyz"),
                    lambda r: r.json()["outbox"]["oldest_age_s"] > 0,
                )
                assert waiting.status_code == 200, waiting.text  # nothing lost: still ready
                assert waiting.json()["outbox"]["unpublished"] == 1
                metrics = (await probe.get(f"{url}/metrics")).text
                assert sample_value(metrics, "tifli_outbox_oldest_unpublished_age_seconds") > 0
            procs.start("relay", "relay-2")
            ready = await eventually(
                lambda: probe.get(f"{stack.base_url}/readyz"),
                lambda r: r.json()["outbox"]["unpublished"] == 0,
                timeout=60,
            )
            assert ready.json()["outbox"]["oldest_age_s"] == 0.0
