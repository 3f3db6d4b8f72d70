"""Which published events a consumer group never finished, on both databases: what
``tifli events unfinished`` lists and ``redrive`` sends again."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from services.components import CONSUMERS, Components
from shared.events import ALERTS, REPORTS
from shared.inbox import ProcessedEvent
from shared.outbox import OutboxEvent
from shared.unfinished_events import find_unfinished, requeue_unfinished
from tests.shared.conftest import NOW

KEPT = NOW - timedelta(days=8)  # the outbox's retention: older rows wait to be pruned


def _event(topic: str, published_at: datetime | None, name: str) -> OutboxEvent:
    return OutboxEvent(
        event_id=str(uuid.uuid4()),
        topic=topic,
        key=name,
        event_type=f"{topic}.test",
        payload="{}",
        created_at=published_at or NOW,
        published_at=published_at,
    )


async def test_only_events_a_reading_group_never_finished_are_sent_again(
    components: Components,
) -> None:
    [engine_group], [dispatcher_group] = CONSUMERS[REPORTS], CONSUMERS[ALERTS]
    hour = timedelta(hours=1)
    rows = {
        "finished": _event(REPORTS, NOW - 3 * hour, "finished"),
        "parked": _event(REPORTS, NOW - 2 * hour, "parked"),
        # Finished by the engine, which does not read the alerts topic: not the dispatcher.
        "other group": _event(ALERTS, NOW - hour, "other group"),
        "on its way": _event(REPORTS, NOW - timedelta(seconds=5), "on its way"),
        "past retention": _event(REPORTS, KEPT - hour, "past retention"),
        "unpublished": _event(REPORTS, None, "unpublished"),
    }
    async with components.sessions() as session, session.begin():
        session.add_all(rows.values())
        for name, group in (("finished", engine_group), ("other group", engine_group)):
            session.add(
                ProcessedEvent(consumer_group=group, event_id=rows[name].event_id, processed_at=NOW)
            )
    before = NOW - timedelta(minutes=1)

    async with components.sessions() as session:
        found = await find_unfinished(session, CONSUMERS, KEPT, before)
    assert [(u.key, u.group) for u in found] == [
        ("parked", engine_group),
        ("other group", dispatcher_group),
    ]

    async with components.sessions() as session, session.begin():
        assert await requeue_unfinished(session, CONSUMERS, KEPT, before) == 2
    async with components.sessions() as session:
        pending = await session.scalars(
            select(OutboxEvent.key)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
        )
        # Back in the outbox, in their first order, for the relay to send again.
        assert list(pending) == ["parked", "other group", "unpublished"]
