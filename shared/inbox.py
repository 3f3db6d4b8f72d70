"""Idempotent consumers: an event's effects and its 'processed' mark commit together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime, insert_on_conflict
from shared.housekeeping import PruneRows


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime)


async def first_delivery(session: AsyncSession, group: str, event_id: str, now: datetime) -> bool:
    """Record ``event_id`` as processed by ``group``; False if it already was (a duplicate).

    Call inside the handler's transaction, before its effects: a duplicate then does nothing,
    and a crash before commit leaves no mark, so the redelivery is processed in full.
    """
    statement = (
        insert_on_conflict(session, ProcessedEvent)
        .values(consumer_group=group, event_id=event_id, processed_at=now)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.event_id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


def processed_pruner(group: str) -> PruneRows:
    """Forgets ``group``'s processed-event ids older than the cut-off. Keep them longer than
    the broker keeps events (Kafka's default: 7 days), so no redelivery can outlive them."""

    async def prune(session: AsyncSession, before: datetime) -> int:
        result = await session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.consumer_group == group, ProcessedEvent.processed_at < before
            )
        )
        return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]

    return prune
