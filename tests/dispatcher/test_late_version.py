"""A version planned after newer ones went out — its event dead-lettered, then sent again by
``tifli events redrive`` — is not sent to a partner that already has the newer ones: it would
reach the partner out of order, a smaller zone after a larger one."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Delivery, Partner
from dispatcher.retry import RetryPolicy
from dispatcher.signing import new_secret
from dispatcher.worker import DeliveryWorker, WorkerConfig
from services.testbed.stack import FakeClock
from shared.sealing import Sealer
from tests.dispatcher.conftest import NOW, delivery, partner


async def test_a_version_planned_after_newer_ones_is_not_claimed_as_planned(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    sealer = Sealer(Sealer.new_key())
    row = partner("p1")
    row.secret = sealer.seal_text(new_secret())
    async with sessions() as session, session.begin():
        session.add(row)
        await session.flush()  # the partner before its deliveries
        session.add_all(
            [
                delivery("p1", "a", 1, "delivered", "alert.issued"),
                delivery("p1", "a", 3, "delivered"),  # a newer Update, already out
                delivery("p1", "a", 2, "pending"),  # the redriven one, just planned
                delivery("p1", "b", 1, "delivered", "alert.issued"),
                delivery("p1", "b", 2, "pending"),  # in order: goes at once
            ]
        )
    config = WorkerConfig(
        retry=RetryPolicy(schedule_s=(0.0,)),
        partner_concurrency=4,
        poll_interval_s=1.0,
        lease=timedelta(seconds=30),
    )
    async with httpx.AsyncClient() as client:
        worker = DeliveryWorker(sessions, client, config, FakeClock(NOW), sealer)
        async with sessions() as session, session.begin():
            p1 = await session.get_one(Partner, "p1")
            planned = [(await session.get_one(Delivery, key), p1) for key in ("p1-a-2", "p1-b-2")]
            claimed = await worker.claim_fresh(session, planned, NOW)
    assert [c.delivery_id for c in claimed] == ["p1-b-2"]
