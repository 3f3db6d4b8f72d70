"""How long the embedded API keeps a caller waiting while the engine draws zones.

    .venv/bin/python -m bench.api_while_drawing --cases 40

In the embedded mode the API, the engine and the dispatcher share one process. A prober asks
``/healthz`` (no database: what it measures is how soon the process gets to the request)
every ``--every-ms``, first on an idle stack (the baseline, in the same run), then while
reports last seen ``--hours-ago`` hours ago are submitted and approved one after another:
each approval draws a zone of hundreds of kilometres (320 km by car after 4 hours), among
the costliest there are.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import percentiles, receiver, running_stack, show
from intake_api.gazetteer import load_gazetteer
from services.testbed.sample_report import CRITERIA, report_body

_SEED = 29  # which towns, in which order


async def _probe(url: str, every_s: float, stop: asyncio.Event) -> list[float]:
    """``/healthz`` latencies (ms), one request every ``every_s`` until ``stop``."""
    waits: list[float] = []
    async with httpx.AsyncClient() as client:
        while not stop.is_set():
            started = time.perf_counter()
            (await client.get(f"{url}/healthz")).raise_for_status()
            waits.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(every_s)
    return waits


def _case(town: Any, hours_ago: float) -> dict[str, Any]:
    body = report_body()
    body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
    body["last_seen"]["location"] = {"lat": town.lat, "lon": town.lon}
    body["last_seen"]["place_name"] = town.name
    return body


async def run(cases: int, every_s: float, hours_ago: float, idle_probes: int) -> None:
    async with receiver() as partner, running_stack("embedded") as (stack, _):
        async with stack.client("admin") as admin:
            registered = await admin.post(
                "/v1/partners",
                json={"name": "bench", "url": partner.url, "verify_token": partner.verify_token},
            )
            assert registered.json()["status"] == "active", registered.text
        stop = asyncio.Event()
        idle = asyncio.create_task(_probe(stack.base_url, every_s, stop))
        await asyncio.sleep(idle_probes * every_s)
        stop.set()
        baseline = await idle

        towns = random.Random(_SEED).sample(load_gazetteer().places, cases)
        stop = asyncio.Event()
        busy = asyncio.create_task(_probe(stack.base_url, every_s, stop))
        drawn_s = time.perf_counter()
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            for town in towns:
                report = (await police.post("/v1/reports", json=_case(town, hours_ago))).json()
                approved = await reviewer.post(f"/v1/reports/{report['id']}/approve", json=CRITERIA)
                await partner.wait(approved.json()["alert_id"], "alert.issued")
        drawn_s = time.perf_counter() - drawn_s
        stop.set()
        waiting = await busy

    print(
        f"/healthz in the embedded mode, one request every {every_s * 1000:.0f} ms"
        f" ({cases} cases last seen {hours_ago:g} h ago, approved one after another,"
        f" {drawn_s:.1f} s)"
    )
    print(show("while zones are drawn", percentiles(waiting)))
    print(show("baseline: the same stack idle", percentiles(baseline)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--every-ms", type=float, default=10.0)
    parser.add_argument("--hours-ago", type=float, default=4.0)
    parser.add_argument("--idle-probes", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.cases, args.every_ms / 1000, args.hours_ago, args.idle_probes))


if __name__ == "__main__":
    main()
