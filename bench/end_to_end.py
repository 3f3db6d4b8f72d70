"""Approval → signed webhook received by a partner, per case, in either run mode.

    .venv/bin/python -m bench.end_to_end --mode embedded --cases 300
    .venv/bin/python -m bench.end_to_end --mode production --cases 600

Cases run one after another (latency, not queueing). The baseline, measured in the same run
against the same receiver, is one signed httpx POST: the floor of a single webhook hop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx

from bench.harness import percentiles, receiver, show, stack_for
from dispatcher.signing import new_secret, signature_headers
from tests.conftest import CRITERIA, report_body


async def run(mode: str, cases: int) -> None:
    async with receiver() as partner, stack_for(mode) as stack:
        async with stack.client("admin") as admin:
            registered = await admin.post(
                "/v1/partners",
                json={"name": "bench", "url": partner.url, "verify_token": partner.verify_token},
            )
            assert registered.json()["status"] == "active", registered.text
        latencies: list[float] = []
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            for n in range(cases + 10):
                report = (await police.post("/v1/reports", json=report_body())).json()
                started = time.perf_counter()
                approved = await reviewer.post(f"/v1/reports/{report['id']}/approve", json=CRITERIA)
                arrived = await partner.wait(approved.json()["alert_id"], "alert.issued")
                if n >= 10:  # the first cases warm connections and caches
                    latencies.append((arrived - started) * 1000)

        baseline: list[float] = []
        secret, padding = new_secret(), "x" * 4000  # about the size of a real alert body
        async with httpx.AsyncClient() as client:
            for n in range(cases):
                body = json.dumps(
                    {"type": "alert.issued", "alert": {"alert_id": f"b{n}"}, "padding": padding}
                ).encode()
                headers = signature_headers([secret], f"msg_{n}", int(time.time()), body)
                started = time.perf_counter()
                await client.post(partner.url, content=body, headers=headers)
                baseline.append((time.perf_counter() - started) * 1000)

    print(f"end-to-end latency, {mode} mode ({cases} cases, sequential)")
    print(show("approval → signed webhook received", percentiles(latencies)))
    print(show("baseline: one signed httpx POST", percentiles(baseline)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("embedded", "production"), default="embedded")
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.mode, args.cases))


if __name__ == "__main__":
    main()
