"""How long the embedded API keeps a caller waiting while the engine draws zones.

    .venv/bin/python -m bench.api_while_drawing --cases 40

In the embedded mode the API, the engine and the dispatcher share one process and one SQLite
database, whose one writer every request with a key waits for (it records the key's use).
Two probers each send a request every ``--every-ms``: ``/healthz`` (no database: how soon
the process gets to a request) and ``GET /v1/alerts?limit=1`` with a reader's key (the
database too). First on an idle stack (the baseline, in the same run), then while reports
last seen ``--hours-ago`` hours ago are submitted and approved one after another: each
approval draws a zone of hundreds of kilometres (320 km by car after 4 hours), among the
costliest there are. Then while each case gets a trusted sighting in another town: each
Update draws the union of two such zones.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import percentiles, receiver, running_stack, show
from intake_api.gazetteer import load_gazetteer
from services.testbed.sample_report import CRITERIA, report_body

_SEED = 29  # which towns, in which order


_PROBES = {"/healthz": None, "/v1/alerts?limit=1": "reader"}  # path: the key it needs


async def _probe(
    client: httpx.AsyncClient, path: str, every_s: float, stop: asyncio.Event
) -> list[float]:
    """Latencies (ms) of ``path``, one request every ``every_s`` until ``stop``."""
    waits: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        (await client.get(path)).raise_for_status()
        waits.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(every_s)
    return waits


async def _probed(
    stack: Any, every_s: float, during: Callable[[], Awaitable[None]]
) -> dict[str, list[float]]:
    """Each probe's latencies while ``during`` runs."""
    stop = asyncio.Event()
    async with AsyncExitStack() as clients:
        probes = {
            path: asyncio.create_task(
                _probe(await clients.enter_async_context(stack.client(key)), path, every_s, stop)
            )
            for path, key in _PROBES.items()
        }
        try:
            await during()
        finally:
            stop.set()
        return {path: await task for path, task in probes.items()}


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
        baseline = await _probed(stack, every_s, lambda: asyncio.sleep(idle_probes * every_s))
        towns = random.Random(_SEED).sample(load_gazetteer().places, cases)

        approved: list[dict[str, Any]] = []

        async def cases_drawn() -> None:
            async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
                for town in towns:
                    body = _case(town, hours_ago)
                    report = (await police.post("/v1/reports", json=body)).json()
                    approval = await reviewer.post(
                        f"/v1/reports/{report['id']}/approve", json=CRITERIA
                    )
                    await partner.wait(approval.json()["alert_id"], "alert.issued")
                    approved.append(approval.json())

        async def sightings_drawn() -> None:
            async with stack.client("submitter") as police:
                # Each case's child seen in the next case's town, now.
                for case, town in zip(approved, towns[1:] + towns[:1], strict=True):
                    seen = {
                        "location": {"lat": town.lat, "lon": town.lon},
                        "at": datetime.now(UTC).isoformat(),
                        "trusted": True,
                    }
                    added = await police.post(f"/v1/reports/{case['id']}/sightings", json=seen)
                    added.raise_for_status()
                    await partner.wait(case["alert_id"], "alert.updated")

        drawn_s = time.perf_counter()
        waiting = await _probed(stack, every_s, cases_drawn)
        drawn_s = time.perf_counter() - drawn_s
        sighted_s = time.perf_counter()
        sighted = await _probed(stack, every_s, sightings_drawn)
        sighted_s = time.perf_counter() - sighted_s

    print(
        f"the embedded mode, one request every {every_s * 1000:.0f} ms per probe"
        f" ({cases} cases last seen {hours_ago:g} h ago, approved one after another,"
        f" {drawn_s:.1f} s)"
    )
    print(f"then a trusted sighting of each in another town ({sighted_s:.1f} s)")
    for path in _PROBES:
        print(show(f"{path} while zones are drawn", percentiles(waiting[path])))
        print(show(f"{path} while Updates are drawn", percentiles(sighted[path])))
        print(show(f"{path} baseline: the same stack idle", percentiles(baseline[path])))


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
