"""Fan-out: alerts to 1, 10 and 100 loopback partners through one dispatcher process, in
deliveries per second, beside a bare loop of signed httpx POSTs to the same receivers (each
partner its own sequence of POSTs, all partners at once) in the same run.

    .venv/bin/python -m bench.fanout --mode production --alerts 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.harness import bare_alert, stack_for
from dispatcher.signing import new_secret
from services.testbed.loopback import bound_socket, serve
from services.testbed.sample_report import CRITERIA, report_body

PARTNER_COUNTS = (1, 10, 100)


@dataclass
class Receivers:
    """Many partner endpoints on one loopback server: /hook/<n>. Counts what arrives."""

    url: str = ""
    arrivals: dict[str, list[float]] = field(default_factory=dict)  # alert id → arrival times
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            return PlainTextResponse(request.query_params.get("hub.challenge", ""))
        body = json.loads(await request.body())
        async with self.changed:
            alert = body.get("alert", {}).get("alert_id", "")
            self.arrivals.setdefault(alert, []).append(time.perf_counter())
            self.changed.notify_all()
        return Response(status_code=200)

    async def wait_for(self, alerts: list[str], each: int, within_s: float = 300) -> float:
        """Until every alert reached ``each`` partners; returns the last arrival time."""
        async with asyncio.timeout(within_s), self.changed:
            await self.changed.wait_for(
                lambda: all(len(self.arrivals.get(a, [])) >= each for a in alerts)
            )
        return max(max(self.arrivals[a]) for a in alerts)


@asynccontextmanager
async def receivers() -> AsyncIterator[Receivers]:
    found = Receivers()
    app = Starlette(routes=[Route("/hook/{n}", found.endpoint, methods=["GET", "POST"])])
    async with serve(app, bound_socket()) as base:
        found.url = f"{base}/hook"
        yield found


async def bare_loop(url: str, partners: int, per_partner: int) -> float:
    """Deliveries per second of plain signed POSTs: each partner's in order, all at once."""
    secret = new_secret()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200)) as client:

        async def one_partner(p: int) -> None:
            for n in range(per_partner):
                body, headers = bare_alert(secret, f"{p}_{n}")
                response = await client.post(f"{url}/bare-{p}", content=body, headers=headers)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one_partner(p) for p in range(partners)))
        return partners * per_partner / (time.perf_counter() - started)


async def run(mode: str, alerts: int) -> None:
    rows = []
    async with receivers() as hooks, stack_for(mode) as stack:
        registered = 0
        async with (
            stack.client("admin") as admin,
            stack.client("submitter") as police,
            stack.client("reviewer") as reviewer,
        ):
            for partners in PARTNER_COUNTS:
                while registered < partners:  # partners added as the table grows
                    answer = await admin.post(
                        "/v1/partners",
                        json={
                            "name": f"bench-{registered}",
                            "url": f"{hooks.url}/{registered}",
                            "verify_token": "bench-verify-token",
                        },
                    )
                    assert answer.status_code == 201, answer.text
                    registered += 1
                reports = [
                    (await police.post("/v1/reports", json=report_body())).json()["id"]
                    for _ in range(alerts)
                ]
                started = time.perf_counter()
                alert_ids = []
                for report_id in reports:
                    approved = await reviewer.post(
                        f"/v1/reports/{report_id}/approve", json=CRITERIA
                    )
                    alert_ids.append(approved.json()["alert_id"])
                last = await hooks.wait_for(alert_ids, partners)
                tifli_rate = alerts * partners / (last - started)
                bare_rate = await bare_loop(hooks.url, partners, alerts)
                rows.append((partners, tifli_rate, bare_rate))

    print(f"fan-out, {mode} mode: {alerts} alerts approved back to back, to every partner")
    print(f"{'partners':>8}  {'Tifli deliveries/s':>18}  {'bare POSTs/s':>12}  {'ratio':>6}")
    for partners, tifli_rate, bare_rate in rows:
        ratio = tifli_rate / bare_rate
        print(f"{partners:>8}  {tifli_rate:>18.0f}  {bare_rate:>12.0f}  {ratio:>6.2f}")
    print("(Tifli's figure counts from the first approval: it includes the engine's work.)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("embedded", "production"), default="production")
    parser.add_argument("--alerts", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.mode, args.alerts))


if __name__ == "__main__":
    main()
