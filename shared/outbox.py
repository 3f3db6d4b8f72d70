"""The transactional outbox: events are written in the same transaction as the state change.

Nothing publishes to the bus directly; the relay reads this table in id order and is the only
publisher. A state change committed is therefore an event published, even if the bus is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime
from shared.events import Event, serialize_event, topic_of

NOTIFY_CHANNEL = "tifli_outbox"  # sent by the outbox trigger (migration 0007)
_PENDING_FLAG = "tifli_outbox_pending"


class OutboxEvent(Base):
    __tablename__ = "outbox"

    # BigInteger on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite: both auto-increment.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )


async def add_event(session: AsyncSession, event: Event) -> None:
    """Stage ``event`` in the caller's transaction; it is published only if that commits."""
    session.add(
        OutboxEvent(
            event_id=event.id,
            topic=topic_of(event),
            key=event.subject,
            event_type=event.type,
            payload=serialize_event(event).decode(),
            created_at=event.time,
        )
    )
    # On PostgreSQL a trigger on the outbox sends the relay's NOTIFY from the INSERT itself
    # (migration 0007): no round trip of its own, and heard only once the row is committed.
    # In the embedded mode the flag lets the in-process relay wake on commit.
    session.info[_PENDING_FLAG] = True


def had_outbox_events(session: AsyncSession) -> bool:
    """Whether events were staged in this session since last asked (the flag is cleared): the caller
    wakes the relay."""
    return bool(session.info.pop(_PENDING_FLAG, False))


@dataclass(frozen=True)
class Backlog:
    """The events written and not yet published: with no relay running they wait here, and
    no consumer has seen them to leave them unfinished."""

    count: int
    oldest: datetime | None  # when the oldest was written


async def unpublished(db: AsyncSession | AsyncConnection, before: datetime) -> Backlog:
    """The events written before ``before`` and still not published (younger ones may just
    be on their way)."""
    count, oldest = (
        await db.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(
                OutboxEvent.published_at.is_(None), OutboxEvent.created_at < before
            )
        )
    ).one()
    return Backlog(int(count), oldest)


async def prune_published(session: AsyncSession, before: datetime) -> int:
    """Published rows older than ``before``: the broker has them; unpublished rows stay."""
    result = await session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.published_at.is_not(None), OutboxEvent.published_at < before
        )
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


# The events that carry a child's public fields (name, description, photos' URLs). The others
# name no one, and a take-down among them (a resolution, a Cancel) parked on the dead-letter
# topic must still be there to send again, erased case or not.
CARRY_THE_CHILD = frozenset(
    {"report.approved", "report.corrected", "alert.issued", "alert.updated"}
)


async def forget_carried(session: AsyncSession, subjects: list[str]) -> int:
    """Events about these subjects (their keys: a case, an alert) that carry the child,
    deleted now rather than at the next pruning: those published (the broker has them, for
    its own retention), and those not yet published (the broker or the relay away at the
    erasure), which never go out then: published behind the erasure, an approval would have
    put an erased child's alert up at partners, however briefly, and left a fresh copy on
    the topic. Only an ended case is erased, so nothing waits for them: the engine meets its
    closing, or its alert's take-down, with no alert up for it. (A row a relay is publishing
    at that moment is locked: the delete waits for the relay, and takes it once published.)"""
    result = await session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.key.in_(subjects),
            OutboxEvent.event_type.in_(sorted(CARRY_THE_CHILD)),
        )
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
