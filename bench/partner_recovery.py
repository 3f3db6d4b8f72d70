"""A partner back from an outage: how long until its backlog is cleared.

Cases are approved at a steady pace (one a second) while the partner answers 503 for
``--outage-s`` seconds, with the default retry schedule (0, 5 s, 30 s, 2 min, …). Printed:
the time from the partner's recovery until it has every alert approved during the outage,
beside when the schedule alone would have retried the oldest of them (the baseline without
catching up).

    .venv/bin/python -m bench.partner_recovery --outage-s 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.harness import stack_for
from services.testbed.loopback import bound_socket, serve
from services.testbed.sample_report import CRITERIA, report_body
from shared.settings import DEFAULT_RETRY_SCHEDULE_S


@dataclass
class FlakyPartner:
    """Answers 503 while ``down``; notes when each alert's Alert first got a 200."""

    down: bool = True
    delivered: dict[str, float] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    url: str = ""

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            return PlainTextResponse(request.query_params.get("hub.challenge", ""))
        if self.down:
            return Response(status_code=503)
        body = json.loads(await request.body())
        if body["type"] == "alert.issued":
            async with self.changed:
                self.delivered.setdefault(body["alert"]["alert_id"], time.perf_counter())
                self.changed.notify_all()
        return Response(status_code=200)

    async def wait_for(self, alerts: list[str], within_s: float) -> float:
        async with asyncio.timeout(within_s), self.changed:
            await self.changed.wait_for(lambda: all(a in self.delivered for a in alerts))
        return max(self.delivered[a] for a in alerts)


@asynccontextmanager
async def flaky_partner() -> AsyncIterator[FlakyPartner]:
    partner = FlakyPartner()
    app = Starlette(routes=[Route("/hook", partner.endpoint, methods=["GET", "POST"])])
    async with serve(app, bound_socket()) as base:
        partner.url = f"{base}/hook"
        yield partner


async def run(mode: str, outage_s: float) -> None:
    async with (
        flaky_partner() as partner,
        stack_for(mode) as stack,
        stack.client("admin") as admin,
        stack.client("submitter") as police,
        stack.client("reviewer") as reviewer,
    ):
        partner.down = False  # the handshake and registration first
        registered = await admin.post(
            "/v1/partners",
            json={"name": "flaky", "url": partner.url, "verify_token": "bench-verify-token"},
        )
        assert registered.status_code == 201, registered.text
        partner.down = True
        alerts: list[str] = []
        started = time.perf_counter()
        recovered_at, owed_at_recovery = 0.0, 0
        while True:  # one case a second, through the outage and 10 s after it
            elapsed = time.perf_counter() - started
            if partner.down and elapsed >= outage_s:
                partner.down, recovered_at = False, time.perf_counter()
                owed_at_recovery = len(alerts)
            if not partner.down and elapsed >= outage_s + 10:
                break
            report = (await police.post("/v1/reports", json=report_body())).json()
            approved = await reviewer.post(f"/v1/reports/{report['id']}/approve", json=CRITERIA)
            alerts.append(approved.json()["alert_id"])
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started - elapsed)))
        # The backlog: what the outage held back (later cases go straight through).
        cleared = await partner.wait_for(alerts[:owed_at_recovery], within_s=600)
    # Without catching up, the oldest alert's next attempt is where the schedule puts it.
    schedule_elapsed, attempt = 0.0, 0
    while schedule_elapsed < outage_s:
        attempt += 1
        schedule_elapsed += DEFAULT_RETRY_SCHEDULE_S[
            min(attempt, len(DEFAULT_RETRY_SCHEDULE_S) - 1)
        ]
    print(f"partner recovery, {mode} mode: 503 for {outage_s:.0f} s, one case a second")
    print(
        f"alerts approved: {len(alerts)}, owed to the partner at its recovery: {owed_at_recovery}"
    )
    print(f"backlog cleared {cleared - recovered_at:.1f} s after the partner recovered")
    print(
        f"baseline, the schedule alone: the oldest alert's next attempt "
        f"{schedule_elapsed - outage_s:.0f} s after the recovery"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("embedded", "production"), default="embedded")
    parser.add_argument("--outage-s", type=float, default=60)
    args = parser.parse_args()
    asyncio.run(run(args.mode, args.outage_s))


if __name__ == "__main__":
    main()
