"""A partner whose signing secret this dispatcher cannot open (sealed under a data key it was
not given: a key rotation rolled out to intake first) holds only its own deliveries: every
other partner still gets its alerts and take-downs, as planned and from the loop, and the
held deliveries say why."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Delivery, Partner
from dispatcher.retry import RetryPolicy
from dispatcher.signing import new_secret
from dispatcher.worker import UNOPENED_SECRET, DeliveryWorker, WorkerConfig
from services.testbed.partner import partner_endpoint
from services.testbed.stack import FakeClock
from shared.sealing import Sealer
from shared.supervision import Supervisor
from tests.dispatcher.conftest import NOW, delivery, partner
from tests.flows import verify_both_signatures

DISPATCHERS_KEY = Sealer.new_key()
NEWER_KEY = Sealer.new_key()  # intake's, after a rotation the dispatcher has not had yet


def _config() -> WorkerConfig:
    return WorkerConfig(
        retry=RetryPolicy(schedule_s=(0.0,)),
        partner_concurrency=1,
        poll_interval_s=0.05,
        lease=timedelta(seconds=30),
    )


def _partner(partner_id: str, url: str, secret: str, sealed_with: str) -> Partner:
    row = partner(partner_id)
    row.url = url
    row.secret = Sealer(sealed_with).seal_text(secret)
    return row


async def test_one_partner_s_unopened_secret_holds_only_its_deliveries(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    readable_secret = new_secret()
    async with partner_endpoint() as readable, partner_endpoint() as held:
        async with sessions() as session, session.begin():
            session.add_all(
                [
                    _partner("held", held.url, new_secret(), NEWER_KEY),
                    _partner("readable", readable.url, readable_secret, DISPATCHERS_KEY),
                ]
            )
            await session.flush()  # the partners before their deliveries
            session.add_all(
                [
                    delivery("held", "a", 1, "pending", "alert.issued"),
                    delivery("readable", "a", 1, "pending", "alert.issued"),
                    delivery("held", "b", 2, "pending", "alert.cancelled"),  # a take-down
                    delivery("readable", "b", 2, "pending", "alert.cancelled"),
                ]
            )
        clock = FakeClock(NOW)
        async with httpx.AsyncClient() as client:
            worker = DeliveryWorker(sessions, client, _config(), clock, Sealer(DISPATCHERS_KEY))
            # As planned: the event's claim goes through for the partner that can be signed for
            # (raised, it failed the event's whole transaction, every partner's deliveries).
            async with sessions() as session, session.begin():
                first = [
                    (await session.get_one(Delivery, f"{p}-a-1"), await session.get_one(Partner, p))
                    for p in ("held", "readable")
                ]
                claimed = await worker.claim_fresh(session, first, NOW)
            assert [c.delivery_id for c in claimed] == ["readable-a-1"]
            worker.dispatch(claimed)
            # From the loop: the take-down goes to the partner that can be signed for.
            loop = asyncio.create_task(worker.run(Supervisor(stale_after_s=60.0)))
            try:
                received = await readable.wait_for(2)
            finally:
                worker.stop()
                await loop
    verify_both_signatures(readable_secret, received[-1])
    assert held.received == []
    async with sessions() as session:
        rows = {d.id: d for d in await session.scalars(select(Delivery))}
    assert rows["readable-a-1"].status == rows["readable-b-2"].status == "delivered"
    for kept in ("held-a-1", "held-b-2"):
        # Waiting, said on the delivery, looked at again later (not at every pass), and not
        # counted as an attempt: nothing was sent.
        assert rows[kept].status == "pending" and rows[kept].attempts == 0
        assert rows[kept].last_error == UNOPENED_SECRET
        assert rows[kept].next_attempt_at > NOW
