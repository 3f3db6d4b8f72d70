"""Intake throughput: POST /v1/reports (validation, encryption, idempotency, audit, outbox,
one transaction) beside a bare FastAPI endpoint doing one insert into the same PostgreSQL.

    .venv/bin/python -m bench.intake_throughput --requests 2000 --concurrency 16

Both servers are single uvicorn processes started here; rounds alternate between them and
the median round is reported, because timings on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from services.testbed.backing_servers import postgres_server
from services.testbed.loopback import free_port
from services.testbed.production import cap_signing_env, create_keys, fresh_database, migrate
from services.testbed.sample_report import report_body
from shared.sealing import Sealer


async def _wait_up(url: str) -> None:
    async with asyncio.timeout(60), httpx.AsyncClient() as client:
        while True:
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)


async def _load(
    url: str, headers: dict[str, str], body: dict[str, Any], requests: int, concurrency: int
) -> float:
    """Requests per second for ``requests`` POSTs, ``concurrency`` at a time."""
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            response = await client.post(url, json=body, headers=headers)
            assert response.status_code == 201, response.text

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


async def run(requests: int, concurrency: int, rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="tifli-bench-"))
    with postgres_server() as server_url:
        tifli_db, bare_db = await fresh_database(server_url), await fresh_database(server_url)
        tifli_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "TIFLI_DATABASE_URL": tifli_db,
            "TIFLI_DATA_KEY": Sealer.new_key(),
            **cap_signing_env(),
            "TIFLI_PORT": str(tifli_port),
            "TIFLI_LOG_LEVEL": "WARNING",
            "TIFLI_RATE_LIMIT_PER_MINUTE": "0",  # the baseline has no limiter either
        }
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        await migrate(env)
        keys = await create_keys(tifli_db)
        logs = (work / "tifli.log").open("w"), (work / "bare.log").open("w")
        tifli = subprocess.Popen(  # noqa: ASYNC220 - a server left running; nothing waits on it
            [sys.executable, "-m", "services.cli", "run", "intake-api", "--no-migrate"],
            env=env,
            stdout=logs[0],
            stderr=logs[0],
        )
        bare = subprocess.Popen(  # noqa: ASYNC220 - as above
            [sys.executable, "-m", "bench.bare_insert", bare_db, str(bare_port)],
            stdout=logs[1],
            stderr=logs[1],
        )
        try:
            tifli_url = f"http://127.0.0.1:{tifli_port}"
            bare_url = f"http://127.0.0.1:{bare_port}"
            await _wait_up(f"{tifli_url}/healthz")
            await _wait_up(f"{bare_url}/docs")
            body = report_body()
            auth = {"Authorization": f"Bearer {keys['submitter']}"}
            # Warm both (connections, caches, JIT-free Python still has lazy imports).
            await _load(f"{tifli_url}/v1/reports", auth, body, 200, concurrency)
            await _load(f"{bare_url}/bare", {}, body, 200, concurrency)
            results: dict[str, list[float]] = {"intake": [], "bare": []}
            for _ in range(rounds):
                results["bare"].append(
                    await _load(f"{bare_url}/bare", {}, body, requests, concurrency)
                )
                results["intake"].append(
                    await _load(f"{tifli_url}/v1/reports", auth, body, requests, concurrency)
                )
        finally:
            for process in (tifli, bare):
                process.terminate()
                process.wait(timeout=30)
    bare_rps, intake_rps = (statistics.median(results[k]) for k in ("bare", "intake"))
    print(
        f"intake throughput, PostgreSQL, {requests} requests x {rounds} rounds, "
        f"concurrency {concurrency} ({datetime.now(UTC):%Y-%m-%d})"
    )
    print(
        f"{'bare FastAPI endpoint, one insert':<40} {bare_rps:8.1f} req/s  "
        f"(rounds: {', '.join(f'{r:.0f}' for r in results['bare'])})"
    )
    print(
        f"{'POST /v1/reports':<40} {intake_rps:8.1f} req/s  "
        f"(rounds: {', '.join(f'{r:.0f}' for r in results['intake'])})"
    )
    print(f"{'ratio intake / bare':<40} {intake_rps / bare_rps:8.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
