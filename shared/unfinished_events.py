"""Published events that some consumer group never finished, found and sent again.

A consumer records each event id it processed in the same transaction as its effects
(``shared.inbox``); the outbox keeps every published event until it is pruned. An event
published but not recorded by a group that reads its topic was therefore either still on its
way, or not processed at all: parked on the dead-letter topic after failing, or lost with the
in-process bus when the embedded process stopped. Putting it back in the outbox sends it
again, in its original order; consumers drop what they already did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.inbox import ProcessedEvent
from shared.outbox import OutboxEvent

# topic → the consumer groups that read it
Consumers = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Unfinished:
    """One event, and one group that never finished it (nothing of its payload)."""

    event_id: str
    event_type: str
    topic: str
    key: str  # the case or alert it is about
    group: str
    published_at: datetime


def _not_finished_by(topic: str, group: str) -> ColumnElement[bool]:
    done = exists().where(
        ProcessedEvent.consumer_group == group, ProcessedEvent.event_id == OutboxEvent.event_id
    )
    return and_(OutboxEvent.topic == topic, ~done)


def _published(after: datetime, before: datetime | None) -> ColumnElement[bool]:
    """Published after ``after`` (the outbox's retention: an older row is only waiting to be
    pruned, and what consumers remember of it may be gone), before ``before`` if given."""
    published = OutboxEvent.published_at > after
    return published if before is None else and_(published, OutboxEvent.published_at < before)


async def find_unfinished(
    session: AsyncSession,
    consumers: Consumers,
    published_after: datetime,
    published_before: datetime | None = None,
) -> list[Unfinished]:
    """Each event published in that time (``_published``) with each group that never
    finished it, oldest first."""
    found = []
    for topic, groups in consumers.items():
        for group in groups:
            rows = await session.execute(
                select(
                    OutboxEvent.event_id,
                    OutboxEvent.event_type,
                    OutboxEvent.key,
                    OutboxEvent.published_at,
                    OutboxEvent.id,
                ).where(
                    _published(published_after, published_before),
                    _not_finished_by(topic, group),
                )
            )
            found += [
                (row.id, Unfinished(row.event_id, row.event_type, topic, row.key, group, at))
                for row in rows
                if (at := row.published_at) is not None
            ]
    return [unfinished for _, unfinished in sorted(found, key=lambda pair: pair[0])]


async def requeue_unfinished(
    session: AsyncSession,
    consumers: Consumers,
    published_after: datetime,
    published_before: datetime | None = None,
) -> int:
    """Mark every such event unpublished, for the relay to send again; how many events."""
    unfinished = [
        _not_finished_by(topic, group) for topic, groups in consumers.items() for group in groups
    ]
    if not unfinished:
        return 0
    result = await session.execute(
        update(OutboxEvent)
        .where(_published(published_after, published_before), or_(*unfinished))
        .values(published_at=None)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
