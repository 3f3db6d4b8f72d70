"""A partner never has more of one dispatcher's POSTs in flight than the partner concurrency
allows, however many alerts go out together: the alerts handled at once (one handler per
partition) and the delivery loop each take a partner's slot as they claim, so no two of them
find the same slot free."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Delivery, Partner
from dispatcher.retry import RetryPolicy
from dispatcher.signing import new_secret
from dispatcher.worker import Claimed, DeliveryWorker, WorkerConfig
from services.testbed.partner import partner_endpoint
from services.testbed.stack import FakeClock
from shared.sealing import Sealer
from tests.dispatcher.conftest import NOW, delivery, partner

ALERTS = 4


def _worker(
    sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, sealer: Sealer
) -> DeliveryWorker:
    config = WorkerConfig(
        retry=RetryPolicy(schedule_s=(0.0,)),
        partner_concurrency=1,
        poll_interval_s=1.0,
        lease=timedelta(seconds=30),
    )
    return DeliveryWorker(sessions, client, config, FakeClock(NOW), sealer)


async def test_alerts_planned_at_once_share_the_partners_one_slot(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    sealer = Sealer(Sealer.new_key())
    async with partner_endpoint() as endpoint, httpx.AsyncClient() as client:
        row = partner("p1")
        row.url, row.secret = endpoint.url, sealer.seal_text(new_secret())
        async with sessions() as session, session.begin():
            session.add(row)
            await session.flush()  # the partner before its deliveries
            session.add_all(
                delivery("p1", f"a{n}", 1, "pending", "alert.issued") for n in range(ALERTS)
            )
        worker = _worker(sessions, client, sealer)

        async def handled(alert_id: str) -> list[Claimed]:
            """As the event handler of the alert's partition does: planned, then claimed in
            its transaction, sent once committed."""
            async with sessions() as session, session.begin():
                planned = await session.get_one(Delivery, f"p1-{alert_id}-1")
                claimed = await worker.claim_fresh(
                    session, [(planned, await session.get_one(Partner, "p1"))], NOW
                )
            worker.dispatch(claimed)
            return claimed

        async with endpoint.holding():  # the POST sent stays unanswered: its slot stays taken
            claims = await asyncio.gather(*(handled(f"a{n}") for n in range(ALERTS)))
            assert sum(len(c) for c in claims) == 1  # the others wait for the slot
            assert len(await endpoint.wait_held(1)) == 1
        await worker.drain()
        assert len(endpoint.held) == 1
