"""Approval → signed webhook received by a partner, per case, in either run mode.

    .venv/bin/python -m bench.end_to_end --mode embedded --cases 300
    .venv/bin/python -m bench.end_to_end --mode production --cases 600 --review-ms 500

Cases run one after another (latency, not queueing), each last seen half an hour ago at a
town of the gazetteer (seeded: the same towns in the same order every run), so every case has
a zone of its own. ``--review-ms`` is the reviewer's time between a report's submission and
its approval, in which the engine draws the zone (0, the default, approves at once: the
approval may wait for the zone being drawn). The baseline, measured in the same run against
the same receiver, is one signed httpx POST: the floor of a single webhook hop. In production
mode it also prints where the time goes, stage by stage (``bench.stages``), and how many
approvals found their zone drawn.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

import httpx

from bench.harness import (
    percentiles,
    receiver,
    running_stack,
    sequential_bare_posts_ms,
    show,
)
from bench.stages import hops, metric_values, stage_table, zone_mean_ms
from intake_api.gazetteer import Place, load_gazetteer
from services.testbed.sample_report import CRITERIA, report_body

_SEED = 13  # which towns, in which order


async def run(mode: str, cases: int, review_s: float) -> None:
    async with receiver() as partner, running_stack(mode) as (stack, processes):
        async with stack.client("admin") as admin:
            registered = await admin.post(
                "/v1/partners",
                json={"name": "bench", "url": partner.url, "verify_token": partner.verify_token},
            )
            assert registered.json()["status"] == "active", registered.text
        engine_ops = processes.ops_urls.get("alert-engine")  # production mode only
        zone_before = await _engine_metrics(engine_ops)
        latencies: list[float] = []
        requested: dict[str, float] = {}
        towns = random.Random(_SEED).sample(load_gazetteer().places, min(cases + 10, 400))
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            for n in range(cases + 10):
                body = _at_town(report_body(), towns[n % len(towns)])
                report = (await police.post("/v1/reports", json=body)).json()
                await asyncio.sleep(review_s)  # the reviewer reading the report
                started, started_wall = time.perf_counter(), time.time()
                approved = await reviewer.post(f"/v1/reports/{report['id']}/approve", json=CRITERIA)
                arrived = await partner.wait(approved.json()["alert_id"], "alert.issued")
                if n >= 10:  # the first cases warm connections and caches
                    latencies.append((arrived - started) * 1000)
                    requested[report["id"]] = started_wall
        zone_after = await _engine_metrics(engine_ops)
        found = []
        if mode == "production":
            received = {(a, partner.url): t for (a, _), t in partner.arrivals_wall.items()}
            found = await hops(
                processes.env["TIFLI_DATABASE_URL"],
                requested,
                received,
                {registered.json()["id"]: partner.url},
            )

        baseline = await sequential_bare_posts_ms(partner.url, cases)

    print(
        f"end-to-end latency, {mode} mode ({cases} cases, sequential,"
        f" approved {review_s * 1000:.0f} ms after submission)"
    )
    print(show("approval → signed webhook received", percentiles(latencies)))
    print(show("baseline: one signed httpx POST", percentiles(baseline)))
    if found:
        print(f"\nwhere the time went ({len(found)} cases)")
        print(stage_table(found, zone_mean_ms(zone_before, zone_after)))
        used = _increase(zone_before, zone_after, "tifli_prepared_zones_used_total")
        print(f"zones drawn while the report awaited review: {used:.0f} of {cases + 10} used")


def _at_town(body: dict[str, Any], town: Place) -> dict[str, Any]:
    body["last_seen"]["location"] = {"lat": town.lat, "lon": town.lon}
    body["last_seen"]["place_name"] = town.name
    return body


def _increase(before: dict[str, float], after: dict[str, float], name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


async def _engine_metrics(ops_url: str | None) -> dict[str, float]:
    if ops_url is None:
        return {}
    async with httpx.AsyncClient() as client:
        return metric_values((await client.get(f"{ops_url}/metrics")).text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("embedded", "production"), default="embedded")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--review-ms", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(run(args.mode, args.cases, args.review_ms / 1000))


if __name__ == "__main__":
    main()
