"""An event that carried a child and was still waiting to be published when its case was
erased (the broker or the relay away) is deleted with the erasure, on both databases: it
never goes out, and never waits days in the outbox for its pruning."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from services.components import Components
from shared.events import ALERTS, REPORTS
from shared.outbox import OutboxEvent, forget_carried
from tests.shared.conftest import NOW


def _event(topic: str, key: str, event_type: str, published_at: datetime | None) -> OutboxEvent:
    return OutboxEvent(
        event_id=str(uuid.uuid4()),
        topic=topic,
        key=key,
        event_type=event_type,
        payload="{}",
        created_at=NOW,
        published_at=published_at,
    )


async def test_what_carried_the_child_and_was_never_published_never_goes_out(
    components: Components,
) -> None:
    """An erasure while the broker or the relay is away: the case's approval and its alert's
    first version, still waiting, are deleted with it, and never go out behind it (an erased
    child's alert up at partners, however briefly, and a fresh copy on the topic). Its
    closing and its take-down, which name no one, still go out, for the engine and the
    partners to act on."""
    assert components.relay is not None
    rows = [
        _event(REPORTS, "erased case", "report.approved", None),
        _event(REPORTS, "erased case", "report.corrected", None),
        _event(ALERTS, "erased alert", "alert.issued", None),
        _event(REPORTS, "erased case", "report.resolved", None),
        _event(ALERTS, "erased alert", "alert.cancelled", None),
        _event(REPORTS, "other case", "report.approved", None),
    ]
    async with components.sessions() as session, session.begin():
        session.add_all(rows)
    async with components.sessions() as session, session.begin():
        assert await forget_carried(session, ["erased case", "erased alert"]) == 3

    assert await components.relay.publish_pending() == 3

    async with components.sessions() as session:
        sent = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    assert [(row.key, row.event_type) for row in sent] == [
        ("erased case", "report.resolved"),
        ("erased alert", "alert.cancelled"),
        ("other case", "report.approved"),
    ]
