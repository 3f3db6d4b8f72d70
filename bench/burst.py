"""A burst of approvals on Kafka + PostgreSQL: what a bad night looks like to the pipeline.

    .venv/bin/python -m bench.burst --approvals 500 --within-s 10 --partners 10

Reports are submitted first (not timed); then ``--approvals`` approvals are sent evenly
spread over ``--within-s`` seconds, each alert going to every partner. Printed: approval →
partner received (p50/p95/p99 over every alert × partner), the highest lag of the engine's
and the dispatcher's consumer groups (messages, sampled every 0.2 s), the resident memory
of each process before and after, and where the time went (``bench.stages``).

The baseline, in the same run: the same number of signed POSTs of an alert-sized body, sent
from this process straight to the same partners on the same schedule, each partner's in
order — the floor of the hop alone under this load.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.harness import Receiver, bare_alert, percentiles, receiver_set, running_stack, show
from bench.stages import hops, metric_values, stage_table, zone_mean_ms
from dispatcher.signing import new_secret
from services.testbed.production import Processes
from services.testbed.sample_report import CRITERIA, report_body
from shared.events import ALERTS, REPORTS


def resident_mb(pid: int) -> float:
    """VmRSS of a process, from Linux's /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class LagWatch:
    """The highest backlog (end offset − committed offset, summed over partitions) that each
    consumer group had while watched."""

    def __init__(self, bootstrap: str, groups: dict[str, str]) -> None:
        self._bootstrap, self._groups = bootstrap, groups  # group → topic
        self.highest = dict.fromkeys(groups, 0)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        offsets = AIOKafkaConsumer(bootstrap_servers=self._bootstrap)
        await admin.start()
        await offsets.start()
        try:
            partitions = {
                described["topic"]: [
                    TopicPartition(described["topic"], p["partition"])
                    for p in described["partitions"]
                ]
                for described in await admin.describe_topics(list(self._groups.values()))
            }
            while not self._stop.is_set():
                for group, topic in self._groups.items():
                    ends = await offsets.end_offsets(partitions[topic])
                    committed = await admin.list_consumer_group_offsets(group)
                    lag = sum(
                        end - (committed[tp].offset if tp in committed else 0)
                        for tp, end in ends.items()
                    )
                    self.highest[group] = max(self.highest[group], lag)
                await asyncio.sleep(0.2)
        finally:
            await offsets.stop()
            await admin.close()

    def stop(self) -> None:
        self._stop.set()


async def scrape(url: str) -> dict[str, float]:
    async with httpx.AsyncClient() as client:
        return metric_values((await client.get(f"{url}/metrics")).text)


async def burst(
    reviewer: httpx.AsyncClient, reports: Sequence[str], within_s: float
) -> tuple[dict[str, float], dict[str, str]]:
    """Approve every report, evenly spread over ``within_s``; returns when each approval
    request left (wall clock) and each report's alert id."""
    requested: dict[str, float] = {}
    alert_of: dict[str, str] = {}
    start = time.monotonic() + 0.5
    gap = within_s / len(reports)

    async def approve(n: int, report_id: str) -> None:
        await asyncio.sleep(max(0.0, start + n * gap - time.monotonic()))
        requested[report_id] = time.time()
        while True:  # as a police client does: "busy" (503) is retried after Retry-After
            answer = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            if answer.status_code != 503:
                break
            busy[0] += 1
            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
        assert answer.status_code == 200, answer.text
        alert_of[report_id] = answer.json()["alert_id"]

    busy = [0]
    await asyncio.gather(*(approve(n, r) for n, r in enumerate(reports)))
    if busy[0]:
        print(f"{busy[0]} approvals were answered 503 (busy) and retried after Retry-After")
    return requested, alert_of


async def bare_burst(partners: Sequence[Receiver], count: int, within_s: float) -> list[float]:
    """The same number of signed POSTs on the same schedule, straight to the partners: one
    stream per partner, in order (as the dispatcher keeps each partner's alerts in order);
    each latency counts from the alert's scheduled time, so waiting in the stream counts."""
    secret = new_secret()
    latencies: list[float] = []
    start = time.perf_counter() + 0.5
    gap = within_s / count

    async def stream(partner: Receiver) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            for n in range(count):
                due = start + n * gap
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                body, headers = bare_alert(secret, n)
                answer = await client.post(partner.url, content=body, headers=headers)
                answer.raise_for_status()
                latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(*(stream(p) for p in partners))
    return latencies


def memory(processes: Processes) -> dict[str, float]:
    return {name: resident_mb(p.pid) for name, p in sorted(processes.running.items())}


async def run(approvals: int, within_s: float, partner_count: int) -> None:
    async with (
        receiver_set(partner_count) as partners,
        running_stack("production") as (stack, processes),
    ):
        partner_url_of: dict[str, str] = {}
        async with stack.client("admin") as admin:
            for n, partner in enumerate(partners):
                answer = await admin.post(
                    "/v1/partners",
                    json={
                        "name": f"bench-{n}",
                        "url": partner.url,
                        "verify_token": partner.verify_token,
                    },
                )
                assert answer.json()["status"] == "active", answer.text
                partner_url_of[answer.json()["id"]] = partner.url
        async with stack.client("submitter") as police:
            submitted = asyncio.Semaphore(8)

            async def submit() -> str:
                async with submitted:
                    return str((await police.post("/v1/reports", json=report_body())).json()["id"])

            reports = await asyncio.gather(*(submit() for _ in range(approvals)))
        print(f"{approvals} reports submitted; {partner_count} partners registered")

        prefix = processes.env["TIFLI_TOPIC_PREFIX"]
        watch = LagWatch(
            processes.env["KAFKA_BOOTSTRAP_SERVERS"],
            {
                f"{prefix}.alert-engine": f"{prefix}.{REPORTS}",
                f"{prefix}.dispatcher": f"{prefix}.{ALERTS}",
            },
        )
        watching = asyncio.create_task(watch.run())
        try:
            before = memory(processes)
            engine_metrics = processes.ops_urls["alert-engine"]
            zone_before = await scrape(engine_metrics)
            limits = httpx.Limits(max_connections=approvals, max_keepalive_connections=approvals)
            async with httpx.AsyncClient(
                base_url=stack.base_url,
                headers={"Authorization": f"Bearer {stack.keys['reviewer']}"},
                limits=limits,
                timeout=120,
            ) as reviewer:
                requested, alert_of = await burst(reviewer, reports, within_s)
            sent_s = max(requested.values()) - min(requested.values())
            for partner in partners:
                for alert_id in alert_of.values():
                    await partner.wait(alert_id, "alert.issued", within_s=300)
            zone_after = await scrape(engine_metrics)
            after = memory(processes)
        finally:
            watch.stop()
            await watching
        received = {
            (alert_id, p.url): t for p in partners for (alert_id, _), t in p.arrivals_wall.items()
        }
        latencies = [
            (received[(alert_of[r], p.url)] - requested[r]) * 1000
            for r in reports
            for p in partners
        ]
        found = await hops(processes.env["TIFLI_DATABASE_URL"], requested, received, partner_url_of)
        baseline = await bare_burst(partners, approvals, within_s)

    print(
        f"\nburst: {approvals} approvals sent in {sent_s:.1f} s, {partner_count} partners, "
        f"Kafka + PostgreSQL, one process per service"
    )
    print(show("approval → partner received", percentiles(latencies)))
    print(show("baseline: signed POST, same schedule", percentiles(baseline)))
    print(
        "\nhighest consumer lag (messages): "
        + ", ".join(f"{group.split('.', 1)[1]} {lag}" for group, lag in watch.highest.items())
    )
    print("\nresident memory (MB)       before    after")
    for name in before:
        print(f"  {name:<22} {before[name]:8.1f} {after[name]:8.1f}")
    print(f"\nwhere the time went ({len(found)} alert × partner hops, first attempts)")
    print(stage_table(found, zone_mean_ms(zone_before, zone_after)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--approvals", type=int, default=500)
    parser.add_argument("--within-s", type=float, default=10.0)
    parser.add_argument("--partners", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.approvals, args.within_s, args.partners))


if __name__ == "__main__":
    main()
