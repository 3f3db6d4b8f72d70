"""A burst of resolves: N found children's cases closed at the same instant, each by its
police key, on the embedded mode or on Kafka + PostgreSQL.

    .venv/bin/python -m bench.resolves --mode production --cases 100 --rounds 3
    .venv/bin/python -m bench.resolves --mode embedded --cases 100 --rounds 3

Each round submits and approves ``--cases`` fresh cases (not timed), then sends, all at
once, one ``GET /v1/reports/{id}`` per case (the baseline: the same key checked, the same
case loaded and answered, nothing written), and then one ``POST /v1/reports/{id}/resolve``
per case. Each request's latency counts from the instant the burst was released, so time
spent queued in the API counts. Printed: p50/p95/max of each, per round and the median
over rounds, the ratio of resolve to read, and the CPU time the API's process spent per
request (from Linux's /proc: on a shared machine, latencies swing with the load beside the
run; the CPU a request costs does not. In the embedded mode the process also runs the
workers, which take each resolved alert down meanwhile).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx

from bench.harness import running_stack
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack

Request = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]


async def open_cases(stack: Stack, count: int) -> list[str]:
    """``count`` cases submitted by the police key and approved by the reviewer's, each one's
    alert up: the engine's zone drawing done before the bursts (in the embedded mode it
    would share the process, and its CPU, with the requests measured)."""
    async with stack.clients("submitter", "reviewer", "reader") as (police, reviewer, reader):
        at_once = asyncio.Semaphore(8)

        async def open_one() -> str:
            async with at_once:
                submitted = await police.post("/v1/reports", json=report_body())
                assert submitted.status_code == 201, submitted.text
                report_id = str(submitted.json()["id"])
                approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
                assert approved.status_code == 200, approved.text
                alert = f"/v1/alerts/{approved.json()['alert_id']}"
                # Composed from the approval's event, soon: only the API can show it.
                while (await reader.get(alert)).status_code == 404:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                return report_id

        return await asyncio.gather(*(open_one() for _ in range(count)))


async def at_once(stack: Stack, report_ids: Sequence[str], request: Request) -> list[float]:
    """One ``request`` per case, all released together, on a connection each (opened before
    the release, so no request waits for a handshake): each one's latency in ms."""
    limits = httpx.Limits(max_connections=len(report_ids), max_keepalive_connections=None)
    async with httpx.AsyncClient(
        base_url=stack.base_url,
        headers={"Authorization": f"Bearer {stack.keys['submitter']}"},
        limits=limits,
        timeout=120,
    ) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in report_ids))
        release = asyncio.Event()
        started = 0.0

        async def one(report_id: str) -> float:
            await release.wait()
            answer = await request(client, report_id)
            assert answer.status_code == 200, answer.text
            return (time.perf_counter() - started) * 1000

        tasks = [asyncio.create_task(one(r)) for r in report_ids]
        await asyncio.sleep(0)  # every task waits on the release
        started = time.perf_counter()
        release.set()
        return list(await asyncio.gather(*tasks))


async def read(client: httpx.AsyncClient, report_id: str) -> httpx.Response:
    return await client.get(f"/v1/reports/{report_id}")


async def resolve(client: httpx.AsyncClient, report_id: str) -> httpx.Response:
    return await client.post(f"/v1/reports/{report_id}/resolve", json={"note": "found"})


def cpu_s(pid: int) -> float:
    """The user and system CPU time a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed_burst(
    stack: Stack, pid: int, report_ids: Sequence[str], request: Request
) -> tuple[dict[str, float], float]:
    """The burst's latency figures, and the API process's CPU ms per request during it."""
    before = cpu_s(pid)
    latencies = await at_once(stack, report_ids, request)
    return figures(latencies), (cpu_s(pid) - before) * 1000 / len(report_ids)


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "max": ordered[-1]}


def line(label: str, found: dict[str, float]) -> str:
    return f"{label:<34} " + "  ".join(f"{k}={v:8.1f} ms" for k, v in found.items())


async def run(mode: str, cases: int, rounds: int) -> None:
    reads: list[dict[str, float]] = []
    resolves: list[dict[str, float]] = []
    cpu: dict[str, list[float]] = {"GET": [], "resolve": []}
    async with running_stack(mode) as (stack, processes):
        pid = processes.running["all" if mode == "embedded" else "intake-api"].pid
        await at_once(stack, await open_cases(stack, cases), read)  # warm-up, not counted
        for n in range(1, rounds + 1):
            report_ids = await open_cases(stack, cases)
            for kind, request, found in (("GET", read, reads), ("resolve", resolve, resolves)):
                latency, cpu_ms = await timed_burst(stack, pid, report_ids, request)
                found.append(latency)
                cpu[kind].append(cpu_ms)
                label = f"round {n}: {cases} x {kind}"
                print(line(label, latency) + f"  API CPU {cpu_ms:5.1f} ms/request")
    database = "SQLite, one process" if mode == "embedded" else "Kafka + PostgreSQL"
    print(f"\n{cases} resolves sent at once, {database}; median of {rounds} rounds")
    median = {k: statistics.median(r[k] for r in reads) for k in reads[0]}
    resolved = {k: statistics.median(r[k] for r in resolves) for k in resolves[0]}
    print(line(f"baseline: {cases} x GET /v1/reports/{{id}}", median))
    print(line(f"{cases} x POST …/resolve", resolved))
    print(
        f"{'ratio resolve / GET':<34} "
        + "  ".join(f"{k}={resolved[k] / median[k]:8.2f}   " for k in median)
    )
    cpu_get, cpu_resolve = (statistics.median(cpu[k]) for k in ("GET", "resolve"))
    print(
        f"API process CPU per request: GET {cpu_get:.1f} ms, resolve {cpu_resolve:.1f} ms "
        f"(ratio {cpu_resolve / cpu_get:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["embedded", "production"], default="production")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.mode, args.cases, args.rounds))


if __name__ == "__main__":
    main()
