"""A partner's Retry-After holds every delivery to it, not only the one it answered: from
every dispatcher sharing the database, until the time it asked (a 429) or its next 2xx (a
503), while other partners are served as ever; then everything goes, take-downs first."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Delivery, Partner
from dispatcher.partners import PartnerService, partner_out
from dispatcher.retry import RetryPolicy
from dispatcher.signing import new_secret
from dispatcher.worker import DeliveryWorker, WorkerConfig
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.stack import FakeClock
from shared.clock import Clock
from shared.sealing import Sealer
from shared.supervision import Supervisor
from tests.dispatcher.conftest import NOW, delivery, partner
from tests.waiting import eventually

ASKED = timedelta(seconds=120)  # the partner's Retry-After
SEALER = Sealer(Sealer.new_key())


def _worker(
    sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, clock: Clock, seed: int
) -> DeliveryWorker:
    """A dispatcher's delivery worker on ``clock``, sending a partner one POST at a time."""
    config = WorkerConfig(
        retry=RetryPolicy(schedule_s=(0.0,)),
        partner_concurrency=1,
        poll_interval_s=0.05,
        lease=timedelta(seconds=30),
    )
    return DeliveryWorker(sessions, client, config, clock, SEALER, random.Random(seed))


@asynccontextmanager
async def _dispatchers(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, count: int
) -> AsyncIterator[list[DeliveryWorker]]:
    """``count`` dispatchers sharing the database, as production runs them, each running its
    delivery loop."""
    supervisor = Supervisor(stale_after_s=60.0)
    async with httpx.AsyncClient() as client:
        workers = [_worker(sessions, client, clock, n) for n in range(count)]
        loops = [asyncio.create_task(worker.run(supervisor)) for worker in workers]
        try:
            yield workers
        finally:
            for worker in workers:
                worker.stop()
            await asyncio.gather(*loops)


def _signing(partner_id: str) -> Partner:
    """A partner row with a secret to sign with."""
    row = partner(partner_id)
    row.secret = SEALER.seal_text(new_secret())
    return row


async def _add_partner(
    sessions: async_sessionmaker[AsyncSession], partner_id: str, endpoint: PartnerEndpoint
) -> None:
    row = _signing(partner_id)
    row.url = endpoint.url
    async with sessions() as session, session.begin():
        session.add(row)


async def _add(sessions: async_sessionmaker[AsyncSession], *deliveries: Delivery) -> None:
    async with sessions() as session, session.begin():
        session.add_all(deliveries)


async def _deliveries(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Delivery]:
    async with sessions() as session:
        return {d.id: d for d in await session.scalars(select(Delivery))}


async def _partner(sessions: async_sessionmaker[AsyncSession], partner_id: str) -> Partner:
    async with sessions() as session:
        return await session.get_one(Partner, partner_id)


def _wake(workers: list[DeliveryWorker]) -> None:
    for worker in workers:
        worker.wake()


async def _served_meanwhile(
    sessions: async_sessionmaker[AsyncSession],
    workers: list[DeliveryWorker],
    other: PartnerEndpoint,
    witness: Delivery,
) -> None:
    """``witness``, due for the other partner, reaches it: a claim ran after everything
    added before it was due, and took what it could."""
    await _add(sessions, witness)
    _wake(workers)
    await other.wait_for(len(other.received) + 1)


async def _paused_until_metric(partner_id: str) -> float | None:
    return REGISTRY.get_sample_value("tifli_partner_paused_until_seconds", {"partner": partner_id})


async def test_a_partner_that_answered_429_with_retry_after_gets_nothing_until_then(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(NOW)
    async with (
        partner_endpoint(script=[429]) as throttling,
        partner_endpoint() as other,
        _dispatchers(sessions, clock, count=2) as workers,
    ):
        throttling.retry_after = str(int(ASKED.total_seconds()))
        await _add_partner(sessions, "throttling", throttling)
        await _add_partner(sessions, "other", other)
        await _add(sessions, delivery("throttling", "a1", 1, "pending", "alert.issued"))
        _wake(workers)
        await eventually(
            lambda: _deliveries(sessions), lambda rows: rows["throttling-a1-1"].attempts == 1
        )

        # Every other delivery to that partner waits, take-downs included, whichever
        # dispatcher claims; the other partner is served meanwhile.
        short_lived = delivery("throttling", "a5", 1, "pending", "alert.issued")
        short_lived.deadline = NOW + ASKED / 2
        await _add(
            sessions,
            delivery("throttling", "a2", 1, "pending", "alert.issued"),
            delivery("throttling", "a3", 1, "pending", "alert.issued"),
            delivery("throttling", "a4", 1, "pending", "alert.cancelled"),
            short_lived,
        )
        await _served_meanwhile(
            sessions, workers, other, delivery("other", "b1", 1, "pending", "alert.issued")
        )
        assert len(throttling.received) == 1
        shown = partner_out(await _partner(sessions, "throttling"), clock.now())
        assert (shown.paused_until, shown.paused_by) == (NOW + ASKED, 429)
        await eventually(
            lambda: _paused_until_metric("throttling"),
            lambda until: until == (NOW + ASKED).timestamp(),
        )
        assert await _paused_until_metric("other") == 0

        # A second before the time asked: still nothing; the delivery whose deadline passed
        # meanwhile is dead-lettered, never sent.
        clock.advance(ASKED - timedelta(seconds=1))
        await _served_meanwhile(
            sessions, workers, other, delivery("other", "b2", 1, "pending", "alert.issued")
        )
        assert len(throttling.received) == 1
        rows = await eventually(
            lambda: _deliveries(sessions),
            lambda rows: rows["throttling-a5-1"].status == "dead",
        )
        assert rows["throttling-a5-1"].last_error == "not delivered before its deadline"
        assert rows["throttling-a5-1"].attempts == 0

        # The time asked: everything goes, the take-down among the first claimed (one POST
        # at a time per dispatcher: no burst).
        clock.advance(timedelta(seconds=1))
        _wake(workers)
        received = await throttling.wait_for(5)
        resumed = [r.headers["webhook-id"] for r in received[1:]]
        assert sorted(resumed) == [f"msg_throttling-a{n}-1" for n in range(1, 5)]
        assert "msg_throttling-a4-1" in resumed[: len(workers)]
        await eventually(
            lambda: _deliveries(sessions),
            lambda rows: all(rows[f"throttling-a{n}-1"].status == "delivered" for n in range(1, 5)),
        )
        assert partner_out(await _partner(sessions, "throttling"), clock.now()).paused_until is None
        await eventually(
            lambda: _paused_until_metric("throttling"),
            lambda until: until == 0,
        )


async def test_a_partner_that_answered_503_with_retry_after_is_paused_until_its_next_2xx(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A 503 says the partner is down: every delivery waits, as for a 429, but an accepted
    test event says it is back, and what waits goes at once, before the time it asked."""
    clock = FakeClock(NOW)
    async with (
        partner_endpoint(script=[503]) as down,
        partner_endpoint() as other,
        _dispatchers(sessions, clock, count=1) as workers,
    ):
        down.retry_after = "600"
        await _add_partner(sessions, "down", down)
        await _add_partner(sessions, "other", other)
        await _add(sessions, delivery("down", "a1", 1, "pending", "alert.issued"))
        _wake(workers)
        await eventually(
            lambda: _deliveries(sessions), lambda rows: rows["down-a1-1"].attempts == 1
        )
        await _add(sessions, delivery("down", "a2", 1, "pending", "alert.issued"))
        await _served_meanwhile(
            sessions, workers, other, delivery("other", "b1", 1, "pending", "alert.issued")
        )
        assert len(down.received) == 1
        shown = partner_out(await _partner(sessions, "down"), clock.now())
        assert (shown.paused_until, shown.paused_by) == (NOW + timedelta(seconds=600), 503)

        async with sessions() as session, session.begin():  # as an accepted test event does
            await PartnerService(session, clock.now(), SEALER).answered_test("down")
        _wake(workers)
        received = await down.wait_for(3)
        assert sorted(r.headers["webhook-id"] for r in received[1:]) == [
            "msg_down-a1-1",
            "msg_down-a2-1",
        ]
        assert partner_out(await _partner(sessions, "down"), clock.now()).paused_until is None


async def test_an_alert_planned_for_a_paused_partner_is_not_claimed_with_its_planning(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The event handler claims what it plans, in its own transaction: not for a partner
    whose Retry-After has not passed (the delivery loop sends it then)."""
    paused = _signing("paused")
    paused.throttled_until = NOW + ASKED
    async with sessions() as session, session.begin():
        session.add_all([paused, _signing("other")])
    async with httpx.AsyncClient() as client:
        worker = _worker(sessions, client, FakeClock(NOW), 0)
        async with sessions() as session, session.begin():
            planned = [
                delivery("paused", "a1", 1, "pending", "alert.issued"),
                delivery("other", "a1", 1, "pending", "alert.issued"),
            ]
            session.add_all(planned)
            await session.flush()
            partners = [await session.get_one(Partner, d.partner_id) for d in planned]
            claimed = await worker.claim_fresh(
                session, list(zip(planned, partners, strict=True)), NOW
            )
        worker.give_back(claimed)  # never sent: the test looks only at what was taken
    assert [c.partner_id for c in claimed] == ["other"]
