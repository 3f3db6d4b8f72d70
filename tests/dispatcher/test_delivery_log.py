"""The deliveries log: each delivery listed with its own attempts, in the order they were made."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.delivery_ops import DeliveryService
from dispatcher.models import DeliveryAttempt
from tests.dispatcher.conftest import NOW, delivery, partner


async def test_a_page_lists_each_delivery_with_its_own_attempts_in_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        for n in range(4):  # newest is the last one
            session.add(
                delivery("p1", f"alert-{n}", 1, "dead", created_at=NOW + timedelta(seconds=n))
            )
        await session.flush()
        # Interleaved across deliveries, so grouping and order are both put to the test;
        # alert-0's delivery was never tried.
        for n, status_code in [(1, 500), (2, 502), (1, 503), (3, 500), (2, 200), (1, 410)]:
            session.add(
                DeliveryAttempt(
                    delivery_id=f"p1-alert-{n}-1", at=NOW, status_code=status_code, latency_ms=n
                )
            )

    async with sessions() as session, session.begin():
        service = DeliveryService(session, NOW)
        first = await service.page(alert_id=None, partner_id=None, status=None, limit=3, offset=0)
        rest = await service.page(alert_id=None, partner_id=None, status=None, limit=3, offset=3)
        single = await service.get("p1-alert-1-1")

    listed = {d.alert_id: [a.status_code for a in d.attempt_log] for d in first.items + rest.items}
    assert [d.alert_id for d in first.items + rest.items] == [f"alert-{n}" for n in (3, 2, 1, 0)]
    assert listed == {
        "alert-3": [500],
        "alert-2": [502, 200],
        "alert-1": [500, 503, 410],
        "alert-0": [],
    }
    assert first.next_offset == 3 and rest.next_offset is None
    assert [a.status_code for a in single.attempt_log] == [500, 503, 410]
