"""The relay hop alone, on PostgreSQL and a real Kafka broker: outbox commit → consumer.

    .venv/bin/python -m bench.relay_hop --events 200 --bursts 10 --burst-size 100

One process holds a writer, the relay (woken by the writer's NOTIFY, as in production) and a
consumer. Printed:

- one event at a time: the writer's commit returning → the consumer's handler called;
- bursts: ``--burst-size`` events committed in one transaction → the last one consumed;
- baselines in the same run: the broker hop alone (``publish`` → the same consumer) and one
  PostgreSQL round trip, so the relay's own share can be read beside its floor.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.harness import percentiles, show
from services.database import upgrade
from shared.bus import Message
from shared.bus.kafka import KafkaBus
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.outbox import NOTIFY_CHANNEL, OutboxEvent
from shared.relay import OutboxRelay
from shared.relay_leadership import PostgresLeadership
from shared.supervision import Supervisor
from tests.production import fresh_database
from tests.servers import kafka_broker, postgres_server

PREFIX = "hop"


class Arrivals:
    """The consumer's handler: when each payload arrived, and a wait for a given one."""

    def __init__(self) -> None:
        self.at: dict[bytes, float] = {}
        self._changed = asyncio.Condition()

    async def __call__(self, message: Message) -> None:
        async with self._changed:
            self.at.setdefault(message.value, time.perf_counter())
            self._changed.notify_all()

    async def wait(self, payloads: list[bytes]) -> float:
        """When the last of ``payloads`` arrived."""
        async with asyncio.timeout(60), self._changed:
            await self._changed.wait_for(lambda: all(p in self.at for p in payloads))
        return max(self.at[p] for p in payloads)


async def commit_events(sessions: async_sessionmaker[AsyncSession], payloads: list[bytes]) -> float:
    """Outbox rows and the NOTIFY, committed as a writer does; when the commit returned."""
    async with sessions() as session, session.begin():
        for n, payload in enumerate(payloads):
            session.add(
                OutboxEvent(
                    event_id=str(uuid.uuid4()),
                    topic="events",
                    key=f"case-{n % 7}",
                    event_type="bench",
                    payload=payload.decode(),
                    created_at=datetime.now(UTC),
                )
            )
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return time.perf_counter()


async def run(events: int, bursts: int, burst_size: int) -> None:
    with (
        tempfile.TemporaryDirectory() as work,
        postgres_server() as postgres,
        kafka_broker(Path(work) / "kafka") as kafka,
    ):
        url = await fresh_database(postgres.url)
        await asyncio.to_thread(upgrade, url)
        supervisor = Supervisor(stale_after_s=60)
        bus = KafkaBus(
            kafka.bootstrap,
            partitions=3,
            max_attempts=3,
            dead_letter_topic=f"{PREFIX}.dead-letter",
            topics=[f"{PREFIX}.events"],
            supervisor=supervisor,
        )
        arrivals = Arrivals()
        bus.subscribe(f"{PREFIX}.events", "bench", arrivals)
        await bus.start()
        engine = create_engine(url)
        sessions = session_factory(engine)
        relay = OutboxRelay(
            sessions,
            bus,
            SystemClock(),
            topic_prefix=PREFIX,
            leadership=PostgresLeadership(url, on_notify=lambda: relay.wake()),
        )
        relay_task = asyncio.create_task(relay.run(supervisor))
        try:
            single = [await _one(sessions, arrivals, f"w{n}") for n in range(events + 10)][10:]
            burst = [await _burst(sessions, arrivals, f"b{n}", burst_size) for n in range(bursts)]
            broker = [await _bare(bus, arrivals, f"bare{n}") for n in range(events)]
            database = [await _round_trip(sessions) for _ in range(events)]
        finally:
            relay.stop()
            await relay_task
            await bus.stop()
            await engine.dispose()
    print(f"relay hop on PostgreSQL + Kafka ({events} single events, {bursts} bursts)")
    print(show("commit → consumed, one event", percentiles(single)))
    print(show(f"commit → last consumed, {burst_size} events", percentiles(burst)))
    print(show("baseline: publish → consumed (broker)", percentiles(broker)))
    print(show("baseline: one PostgreSQL round trip", percentiles(database)))


async def _one(sessions: async_sessionmaker[AsyncSession], arrivals: Arrivals, tag: str) -> float:
    payload = f'{{"tag":"{tag}"}}'.encode()
    committed = await commit_events(sessions, [payload])
    return (await arrivals.wait([payload]) - committed) * 1000


async def _burst(
    sessions: async_sessionmaker[AsyncSession], arrivals: Arrivals, tag: str, size: int
) -> float:
    payloads = [f'{{"tag":"{tag}-{n}"}}'.encode() for n in range(size)]
    committed = await commit_events(sessions, payloads)
    return (await arrivals.wait(payloads) - committed) * 1000


async def _bare(bus: KafkaBus, arrivals: Arrivals, tag: str) -> float:
    payload = f'{{"tag":"{tag}"}}'.encode()
    started = time.perf_counter()
    await bus.publish(f"{PREFIX}.events", tag, payload, {"event-id": tag})
    return (await arrivals.wait([payload]) - started) * 1000


async def _round_trip(sessions: async_sessionmaker[AsyncSession]) -> float:
    async with sessions() as session:
        await session.execute(text("SELECT 1"))  # the connection checked out, in a transaction
        started = time.perf_counter()
        await session.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--burst-size", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.bursts, args.burst_size))


if __name__ == "__main__":
    main()
