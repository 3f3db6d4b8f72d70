"""The outbox relay on PostgreSQL and a real Kafka broker: a run of events goes out in one
pass, in outbox order, marked sent only up to the first one the broker did not take, and
never while another relay holds the publishing lock; committed outbox rows (and only those)
wake it; a topic deleted under the running services is made again and read again."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.database import upgrade
from services.testbed.production import fresh_database
from shared.bus import Message
from shared.bus.kafka import KafkaBus
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.events import ReportRejected, ReportRejectedData
from shared.outbox import NOTIFY_CHANNEL, OutboxEvent, add_event
from shared.relay import OutboxRelay
from shared.relay_leadership import PUBLISH_LOCK_KEY, asyncpg_dsn
from shared.supervision import Supervisor
from tests.waiting import eventually

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Seen:
    messages: list[Message] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def __call__(self, message: Message) -> None:
        async with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(60), self._changed:
            await self._changed.wait_for(lambda: len(self.messages) >= count)


@dataclass
class Setup:
    database_url: str
    relay: OutboxRelay
    seen: Seen
    sessions: async_sessionmaker[AsyncSession]
    bus: KafkaBus
    bootstrap: str
    topic: str


@pytest.fixture
async def setup(postgres_url: str, kafka_bootstrap: str) -> AsyncIterator[Setup]:
    url = await fresh_database(postgres_url)
    await asyncio.to_thread(upgrade, url)
    prefix = f"relay-{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(
        kafka_bootstrap,
        partitions=3,
        max_attempts=3,
        dead_letter_topic=f"{prefix}.dead-letter",
        topics=[f"{prefix}.reports"],
    )
    seen = Seen()
    bus.subscribe(f"{prefix}.reports", "reader", seen)
    await bus.start()
    engine = create_engine(url)
    sessions = session_factory(engine)
    relay = OutboxRelay(sessions, bus, SystemClock(), topic_prefix=prefix)
    try:
        yield Setup(url, relay, seen, sessions, bus, kafka_bootstrap, f"{prefix}.reports")
    finally:
        await bus.stop()
        await engine.dispose()


async def _stage(setup: Setup, payloads: list[tuple[str, str]]) -> None:
    """Outbox rows, in this order: (key, payload)."""
    async with setup.sessions() as session, session.begin():
        for key, payload in payloads:
            session.add(
                OutboxEvent(
                    event_id=str(uuid.uuid4()),
                    topic="reports",
                    key=key,
                    event_type="report.approved",
                    payload=payload,
                    created_at=NOW,
                )
            )


async def _rows(setup: Setup) -> list[OutboxEvent]:
    async with setup.sessions() as session:
        return list((await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all())


async def test_a_run_of_events_goes_out_in_one_pass_in_outbox_order(setup: Setup) -> None:
    staged = [(f"case-{n % 4}", f'{{"n":{n}}}') for n in range(40)]
    await _stage(setup, staged)

    assert await setup.relay.publish_pending() == 40

    await setup.seen.wait_for(40)
    for key in {k for k, _ in staged}:
        received = [m.value.decode() for m in setup.seen.messages if m.key == key]
        assert received == [p for k, p in staged if k == key]  # each case in outbox order
    assert all(row.published_at is not None for row in await _rows(setup))
    assert await setup.relay.publish_pending() == 0  # nothing sent twice


async def test_marked_sent_only_up_to_the_first_event_the_broker_refuses(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    # Over the producer's request size limit (1 MB): refused before it is handed over.
    too_large = '{"padding":"' + "x" * 1_100_000 + '"}'
    await _stage(setup, [("case-a", '{"n":0}'), ("case-a", too_large), ("case-a", '{"n":2}')])

    with caplog.at_level(logging.WARNING, logger="shared.relay"):
        assert await setup.relay.publish_pending() == 1
        # Said by the relay itself, at the 1st, 2nd and 4th try: not at every pass.
        for _ in range(3):
            assert await setup.relay.publish_pending() == 0
    said = [r.__dict__ for r in caplog.records if r.name == "shared.relay"]
    assert [(r["levelno"], r["attempts"]) for r in said] == [
        (logging.WARNING, n) for n in (1, 2, 4)
    ]
    assert {(r["event_type"], r["error"]) for r in said} == {
        ("report.approved", "MessageSizeTooLargeError")
    }
    assert not [r for r in said if "padding" in str(r)]  # never the payload

    first, refused, after = await _rows(setup)
    assert first.published_at is not None
    assert refused.published_at is None and refused.attempts == 4
    assert refused.last_error is not None and "TooLarge" in refused.last_error
    assert after.published_at is None  # must not overtake the refused one
    await setup.seen.wait_for(1)
    assert [m.value for m in setup.seen.messages] == [b'{"n":0}']


async def test_nothing_goes_out_while_another_relay_holds_the_publishing_lock(
    setup: Setup,
) -> None:
    await _stage(setup, [("case-a", '{"n":0}')])
    other = await asyncpg.connect(asyncpg_dsn(setup.database_url))
    try:
        held = other.transaction()
        await held.start()
        await other.execute("SELECT pg_advisory_xact_lock($1)", PUBLISH_LOCK_KEY)

        assert await setup.relay.publish_pending() == 0
        assert (await _rows(setup))[0].published_at is None

        await held.rollback()  # the other relay's transaction ends
        assert await setup.relay.publish_pending() == 1
    finally:
        await other.close()


async def test_a_committed_event_wakes_the_relay_and_a_rolled_back_one_does_not(
    setup: Setup,
) -> None:
    heard: list[str] = []
    notified = asyncio.Event()

    def on_notify(*args: object) -> None:
        heard.append(str(args[2]))  # (connection, pid, channel, payload)
        notified.set()

    listener = await asyncpg.connect(asyncpg_dsn(setup.database_url))
    try:
        await listener.add_listener(NOTIFY_CHANNEL, on_notify)
        async with setup.sessions() as session:
            await add_event(session, _rejected("case-a"))
            await session.flush()  # the row is inserted, then rolled back
            await session.rollback()
        async with setup.sessions() as session, session.begin():
            await add_event(session, _rejected("case-b"))
            await add_event(session, _rejected("case-c"))

        async with asyncio.timeout(30):
            await notified.wait()
        # Notifications arrive in commit order: one from the rolled-back insert would have
        # come first. The two events of one transaction fold into one wake-up.
        assert heard == [NOTIFY_CHANNEL]
    finally:
        await listener.close()


async def test_a_deleted_topic_is_made_again_and_read_again_without_a_restart(
    setup: Setup,
) -> None:
    # A broker wiped, or a topic deleted, under running services: the cluster creates no
    # topic by itself (auto.create.topics.enable=false), so the relay makes it again as at
    # start-up, and the consumers, left with no partitions, find it within seconds.
    await _stage(setup, [("case-a", '{"n":0}')])
    assert await setup.relay.publish_pending() == 1
    await setup.seen.wait_for(1)
    admin = AIOKafkaAdminClient(bootstrap_servers=setup.bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([setup.topic])
        await eventually(_assigned(setup), lambda assigned: not assigned, timeout=30, interval=0.2)

        await _stage(setup, [("case-a", '{"n":1}')])
        supervisor = Supervisor(stale_after_s=60)
        running = asyncio.create_task(setup.relay.run(supervisor))
        try:
            async with asyncio.timeout(45):
                await setup.seen.wait_for(2)
        finally:
            setup.relay.stop()
            await running

        assert [m.value for m in setup.seen.messages] == [b'{"n":0}', b'{"n":1}']
        assert all(row.published_at is not None for row in await _rows(setup))
        (made,) = await admin.describe_topics([setup.topic])
        assert len(made["partitions"]) == 3  # as configured, not the broker's default
    finally:
        await admin.close()


def _assigned(setup: Setup) -> Callable[[], Awaitable[set[tuple[str, int]]]]:
    async def probe() -> set[tuple[str, int]]:
        return {tp for tp in setup.bus.assignments() if tp[0] == setup.topic}

    return probe


def _rejected(report_id: str) -> ReportRejected:
    return ReportRejected(
        source="test", subject=report_id, data=ReportRejectedData(report_id=report_id)
    )
