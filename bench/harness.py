"""What the benchmarks share: the stack under test as real processes, and a partner receiver.

The servers come from the project's deploy scripts and the process management from the test
helpers, so the benchmark runs exactly what the tests prove correct.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from dispatcher.signing import new_secret, signature_headers
from services.testbed.backing_servers import kafka_broker, postgres_server
from services.testbed.loopback import bound_socket, free_port, serve
from services.testbed.production import (
    Processes,
    create_keys,
    migrate,
    production_stack,
    wait_ready,
)
from services.testbed.stack import Stack


def bare_alert(secret: str, n: object) -> tuple[bytes, dict[str, str]]:
    """What the baselines POST straight to a receiver: a body about the size of a real alert
    (4 kB), with an alert id the receivers read, and its signature headers."""
    body = json.dumps(
        {"type": "alert.issued", "alert": {"alert_id": f"bare-{n}"}, "padding": "x" * 4000}
    ).encode()
    return body, signature_headers([secret], f"msg_{n}", int(time.time()), body)


async def sequential_bare_posts_ms(url: str, count: int) -> list[float]:
    """``count`` signed POSTs to ``url``, one after another: each one's time in ms."""
    secret, samples = new_secret(), []
    async with httpx.AsyncClient() as client:
        for n in range(count):
            body, headers = bare_alert(secret, n)
            started = time.perf_counter()
            await client.post(url, content=body, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


@dataclass
class Receiver:
    """A partner endpoint that notes when each alert version first arrives."""

    verify_token: str = "bench-verify-token"
    arrivals: dict[tuple[str, str], float] = field(default_factory=dict)
    arrivals_wall: dict[tuple[str, str], float] = field(default_factory=dict)  # time.time()
    waiters: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    url: str = ""

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            return PlainTextResponse(request.query_params.get("hub.challenge", ""))
        body = json.loads(await request.body())
        key = (body["alert"]["alert_id"], body["type"])
        self.arrivals.setdefault(key, time.perf_counter())
        self.arrivals_wall.setdefault(key, time.time())
        self.waiters.setdefault(key, asyncio.Event()).set()
        return Response(status_code=200)

    async def wait(self, alert_id: str, event_type: str, within_s: float = 30) -> float:
        key = (alert_id, event_type)
        await asyncio.wait_for(self.waiters.setdefault(key, asyncio.Event()).wait(), within_s)
        return self.arrivals[key]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    partner = Receiver()
    app = Starlette(routes=[Route("/hook", partner.endpoint, methods=["GET", "POST"])])
    async with serve(app, bound_socket()) as base:
        partner.url = f"{base}/hook"
        yield partner


@asynccontextmanager
async def receiver_set(count: int) -> AsyncIterator[list[Receiver]]:
    """``count`` partners, each its own server on loopback."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(receiver()) for _ in range(count)]


@asynccontextmanager
async def embedded_stack(work: Path) -> AsyncIterator[tuple[Stack, Processes]]:
    """``tifli run all`` as its own process, on SQLite: what ``make run`` starts."""
    port = free_port()
    database_url = f"sqlite+aiosqlite:///{work / 'tifli.db'}"
    env = {
        **os.environ,
        "TIFLI_DATABASE_URL": database_url,
        "TIFLI_PORT": str(port),
        "TIFLI_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TIFLI_WEBHOOK_ALLOW_PRIVATE": "true",
        "TIFLI_LOG_LEVEL": "WARNING",
        "TIFLI_RATE_LIMIT_PER_MINUTE": "0",  # one client key drives the whole benchmark
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    await migrate(env)
    keys = await create_keys(database_url)
    processes = Processes(env, work, ports={port})
    processes.start("all")
    stack = Stack(settings=None, components=None, base_url=f"http://127.0.0.1:{port}", keys=keys)
    try:
        await wait_ready(stack, processes)
        yield stack, processes
    finally:
        processes.stop_all()


@asynccontextmanager
async def running_stack(
    mode: str, settings: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[Stack, Processes]]:
    """The stack and its processes (their pids, logs, the database they share)."""
    async with AsyncExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tifli-bench-")))
        if mode == "embedded":
            yield await stack.enter_async_context(embedded_stack(work))
            return
        kafka = stack.enter_context(kafka_broker(work / "kafka"))
        postgres = stack.enter_context(postgres_server())
        yield await stack.enter_async_context(
            production_stack(
                postgres,
                kafka,
                work,
                settings={
                    "TIFLI_LOG_LEVEL": "WARNING",
                    "TIFLI_RATE_LIMIT_PER_MINUTE": "0",
                    **(settings or {}),
                },
            )
        )


@asynccontextmanager
async def stack_for(mode: str) -> AsyncIterator[Stack]:
    async with running_stack(mode) as (stack, _):
        yield stack


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": ordered[-1],
    }


def show(label: str, figures: dict[str, float]) -> str:
    return f"{label:<44} " + "  ".join(
        f"{k}={v:.0f}" if k == "n" else f"{k}={v:7.2f} ms" for k, v in figures.items()
    )
