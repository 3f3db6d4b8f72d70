"""GET /v1/deliveries over 1,000 deliveries (three attempts each) on PostgreSQL: the attempts
of a page loaded in one query, beside the same endpoint loading them one delivery at a time
(the earlier way, put back for the baseline) in the same run, requests alternating.

    .venv/bin/python -m bench.list_deliveries --deliveries 1000 --rounds 15
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dispatcher.delivery_ops import DeliveryService
from dispatcher.models import Delivery, DeliveryAttempt, Partner
from services.testbed.production import embedded_stack_on_postgres
from services.testbed.stack import Stack

ATTEMPTS_EACH = 3
PAGE = 200  # the largest page the endpoint serves


async def per_delivery_attempts(
    self: DeliveryService, deliveries: Sequence[Delivery]
) -> dict[str, list[DeliveryAttempt]]:
    """The baseline: one query per delivery, as the list endpoint did before."""
    session = self._session
    return {
        d.id: list(
            await session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == d.id)
                .order_by(DeliveryAttempt.id)
            )
        )
        for d in deliveries
    }


async def seed(stack: Stack, count: int) -> None:
    """Finished deliveries (delivered or dead) to a disabled partner: the running dispatcher
    has nothing to claim, so only the requests measured touch the tables."""
    now = datetime.now(UTC)
    async with stack.embedded.sessions() as session, session.begin():
        session.add(
            Partner(
                id="bench-partner",
                name="Bench",
                url="https://partner.invalid/hook",
                languages="en",
                status="disabled",
                verify_token="unused",
                secret="unused",
                created_at=now,
            )
        )
        await session.flush()
        for i in range(count):
            session.add(
                Delivery(
                    id=f"delivery-{i:05}",
                    webhook_id=f"msg_bench_{i:05}",
                    partner_id="bench-partner",
                    alert_id=f"alert-{i // 4:05}",
                    sequence=i % 4 + 1,
                    event_type="alert.updated" if i % 4 else "alert.issued",
                    payload="{}",
                    status="delivered" if i % 10 else "dead",
                    attempts=ATTEMPTS_EACH,
                    next_attempt_at=now,
                    deadline=now + timedelta(hours=1),
                    created_at=now - timedelta(seconds=i),
                )
            )
            for n in range(ATTEMPTS_EACH):
                session.add(
                    DeliveryAttempt(
                        delivery_id=f"delivery-{i:05}",
                        at=now,
                        status_code=500 if n < ATTEMPTS_EACH - 1 else 200,
                        latency_ms=12.5,
                    )
                )


async def list_all(stack: Stack, expected: int) -> tuple[float, float]:
    """Seconds for the first page of ``PAGE`` deliveries, and for every page to the end."""
    async with stack.client("admin") as admin:
        started = time.perf_counter()
        first_page_s = 0.0
        offset: int | None = 0
        seen = 0
        while offset is not None:
            response = await admin.get("/v1/deliveries", params={"limit": PAGE, "offset": offset})
            response.raise_for_status()
            page = response.json()
            if offset == 0:
                first_page_s = time.perf_counter() - started
            assert all(len(d["attempt_log"]) == ATTEMPTS_EACH for d in page["items"])
            seen += len(page["items"])
            offset = page["next_offset"]
        assert seen == expected, seen
        return first_page_s, time.perf_counter() - started


async def main(deliveries: int, rounds: int) -> None:
    one_query = DeliveryService._attempts_of
    timings: dict[str, list[tuple[float, float]]] = {"one query": [], "per delivery": []}
    async with embedded_stack_on_postgres() as stack:
        try:
            await seed(stack, deliveries)
            for _ in range(2):  # warm-up: connections, statement caches
                await list_all(stack, deliveries)
            for _ in range(rounds):
                for name, loader in (
                    ("per delivery", per_delivery_attempts),
                    ("one query", one_query),
                ):
                    DeliveryService._attempts_of = loader  # type: ignore[method-assign]
                    timings[name].append(await list_all(stack, deliveries))
        finally:
            DeliveryService._attempts_of = one_query  # type: ignore[method-assign]
    print(
        f"GET /v1/deliveries, {deliveries:,} deliveries with {ATTEMPTS_EACH} attempts each, "
        f"pages of {PAGE}, PostgreSQL; median of {rounds} rounds, alternating"
    )
    for name in ("per delivery", "one query"):
        first = statistics.median(t[0] for t in timings[name])
        walk = statistics.median(t[1] for t in timings[name])
        label = (
            "baseline, attempts per delivery" if name == "per delivery" else "attempts in one query"
        )
        print(
            f"{label:>32}: first page {first * 1000:6.1f} ms, "
            f"all {deliveries:,} {walk * 1000:7.1f} ms"
        )
    base = statistics.median(t[1] for t in timings["per delivery"])
    now = statistics.median(t[1] for t in timings["one query"])
    print(f"ratio: the whole list in {now / base:.2f}x the baseline's time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.deliveries, arguments.rounds))
