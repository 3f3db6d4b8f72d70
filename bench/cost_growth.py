"""How the cost of one alert grows with the number of partners and of active alerts.

    .venv/bin/python -m bench.cost_growth --cases 15

One production stack (Kafka + PostgreSQL, one process per service). Cases are approved one
after another; each figure is the median of ``--cases`` approvals:

- **partners** 1 → 10 → 100 (about 10 active alerts): approval → the first and the last
  partner received the alert;
- **active alerts** 10 → 100 → 1,000 → 10,000 (one partner): approval → partner received.
  The active alerts are added to the database as the engine issues them (``bench.timers``'s
  seeding), so the engine, its timers and every list query carry them.

The baseline, in the same run, is one signed POST to the same receiver: the floor of the hop.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence

from sqlalchemy import func, select

from alert_engine.models import Alert
from bench.harness import Receiver, receiver_set, running_stack, sequential_bare_posts_ms
from bench.timers import seed
from services.components import engine_config
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.db import create_engine, session_factory
from shared.settings import Settings

PARTNER_STEPS = (1, 10, 100)
ALERT_STEPS = (10, 100, 1_000, 10_000)


async def approve_and_wait(
    stack: Stack, partners: Sequence[Receiver], cases: int
) -> tuple[float, float]:
    """Median ms from approval to the first and to the last partner receiving the alert."""
    first: list[float] = []
    last: list[float] = []
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        for _ in range(cases):
            report = (await police.post("/v1/reports", json=report_body())).json()
            started = time.perf_counter()
            approved = await reviewer.post(f"/v1/reports/{report['id']}/approve", json=CRITERIA)
            alert_id = approved.json()["alert_id"]
            arrivals = [await p.wait(alert_id, "alert.issued", within_s=120) for p in partners]
            first.append((min(arrivals) - started) * 1000)
            last.append((max(arrivals) - started) * 1000)
    return statistics.median(first), statistics.median(last)


async def run(cases: int) -> None:
    partner_rows: list[tuple[int, int, float, float]] = []
    alert_rows: list[tuple[int, float]] = []
    async with (
        receiver_set(max(PARTNER_STEPS)) as receivers,
        running_stack("production") as (stack, processes),
    ):
        database_url = processes.env["TIFLI_DATABASE_URL"]
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        config = engine_config(Settings(database_url=database_url))

        async def active_alerts() -> int:
            async with sessions() as session:
                return int(
                    await session.scalar(
                        select(func.count()).select_from(Alert).where(Alert.state == "active")
                    )
                    or 0
                )

        async def top_up(target: int) -> int:
            missing = target - await active_alerts()
            if missing > 0:
                async with sessions() as session:
                    now = await session.scalar(select(func.now()))
                assert now is not None
                await seed(sessions, config, now, missing)
            return await active_alerts()

        partner_ids: list[str] = []
        async with stack.client("admin") as admin:

            async def register(partner: Receiver) -> None:
                answer = await admin.post(
                    "/v1/partners",
                    json={
                        "name": f"bench-{len(partner_ids)}",
                        "url": partner.url,
                        "verify_token": partner.verify_token,
                    },
                )
                assert answer.json()["status"] == "active", answer.text
                partner_ids.append(answer.json()["id"])

            await top_up(10)
            for step in PARTNER_STEPS:
                while len(partner_ids) < step:
                    await register(receivers[len(partner_ids)])
                active = await active_alerts()
                first, last = await approve_and_wait(stack, receivers[:step], cases)
                partner_rows.append((step, active, first, last))
                print(f"partners {step:>3}: first {first:7.1f} ms, last {last:7.1f} ms")

            for partner_id in partner_ids[1:]:  # back to one partner
                answer = await admin.delete(f"/v1/partners/{partner_id}")
                assert answer.status_code == 200, answer.text
            for step in ALERT_STEPS:
                active = await top_up(step)
                received, _ = await approve_and_wait(stack, receivers[:1], cases)
                alert_rows.append((active, received))
                print(f"active alerts {active:>6}: {received:7.1f} ms")
        await engine.dispose()
        baseline = statistics.median(await sequential_bare_posts_ms(receivers[0].url, 50))

    print(f"\nhow cost grows (median of {cases} approvals each; Kafka + PostgreSQL)")
    print(f"{'partners':>8} {'active alerts':>14} {'→ first partner':>16} {'→ last partner':>15}")
    for step, active, first, last in partner_rows:
        print(f"{step:>8} {active:>14} {first:>13.1f} ms {last:>12.1f} ms")
    print(f"\n{'active alerts':>14} {'approval → partner (1 partner)':>32}")
    for active, received in alert_rows:
        print(f"{active:>14} {received:>29.1f} ms")
    print(f"\nbaseline: one signed POST to the same receiver, median {baseline:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(run(args.cases))


if __name__ == "__main__":
    main()
