"""The relay hop alone, on PostgreSQL and a real Kafka broker: outbox commit → consumer.

    .venv/bin/python -m bench.relay_hop --events 200 --bursts 10 --burst-size 100

One process holds a writer (staging events with ``add_event``, as intake and the engine do),
the relay (woken by LISTEN/NOTIFY, as in production) and a consumer. Printed:

- one event at a time: the writer's transaction (begin → commit returned), and from its
  commit to the consumer's handler called;
- bursts: ``--burst-size`` events committed in one transaction → the last one consumed;
- baselines in the same run: the broker hop alone (``publish`` → the same consumer) and one
  PostgreSQL round trip, so the relay's own share can be read beside its floor.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.harness import percentiles, show
from services.database import upgrade
from services.testbed.backing_servers import kafka_broker, postgres_server
from services.testbed.production import fresh_database
from shared.bus import Message
from shared.bus.kafka import KafkaBus
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.events import REPORTS, ReportRejected, ReportRejectedData
from shared.outbox import add_event
from shared.relay import OutboxRelay
from shared.relay_leadership import PostgresLeadership
from shared.supervision import Supervisor

PREFIX = "hop"


class Arrivals:
    """The consumer's handler: when each payload arrived, and a wait for a given one."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._changed = asyncio.Condition()

    async def __call__(self, message: Message) -> None:
        async with self._changed:
            self.at.setdefault(message.headers["event-id"], time.perf_counter())
            self._changed.notify_all()

    async def wait(self, event_ids: list[str]) -> float:
        """When the last of ``event_ids`` arrived."""
        async with asyncio.timeout(60), self._changed:
            await self._changed.wait_for(lambda: all(e in self.at for e in event_ids))
        return max(self.at[e] for e in event_ids)


async def commit_events(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> tuple[list[str], float, float]:
    """``count`` events staged and committed as a writer does: their ids, when the
    transaction began and when its commit returned."""
    events = [
        ReportRejected(
            source="bench", subject=f"case-{n % 7}", data=ReportRejectedData(report_id=f"r{n}")
        )
        for n in range(count)
    ]
    began = time.perf_counter()
    async with sessions() as session, session.begin():
        for event in events:
            await add_event(session, event)
    return [e.id for e in events], began, time.perf_counter()


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
            topics=[f"{PREFIX}.{REPORTS}"],
            supervisor=supervisor,
        )
        arrivals = Arrivals()
        bus.subscribe(f"{PREFIX}.{REPORTS}", "bench", arrivals)
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
            single = [await _one(sessions, arrivals) for _ in range(events + 10)][10:]
            burst = [await _burst(sessions, arrivals, burst_size) for _ in range(bursts)]
            broker = [await _bare(bus, arrivals, f"bare{n}") for n in range(events)]
            database = [await _round_trip(sessions) for _ in range(events)]
        finally:
            relay.stop()
            await relay_task
            await bus.stop()
            await engine.dispose()
    print(f"relay hop on PostgreSQL + Kafka ({events} single events, {bursts} bursts)")
    print(show("writer: begin → commit returned", percentiles([w for w, _ in single])))
    print(show("commit → consumed, one event", percentiles([h for _, h in single])))
    print(show(f"commit → last consumed, {burst_size} events", percentiles(burst)))
    print(show("baseline: publish → consumed (broker)", percentiles(broker)))
    print(show("baseline: one PostgreSQL round trip", percentiles(database)))


async def _one(
    sessions: async_sessionmaker[AsyncSession], arrivals: Arrivals
) -> tuple[float, float]:
    """The writer's transaction and commit → consumed, in ms."""
    ids, began, committed = await commit_events(sessions, 1)
    return (committed - began) * 1000, (await arrivals.wait(ids) - committed) * 1000


async def _burst(
    sessions: async_sessionmaker[AsyncSession], arrivals: Arrivals, size: int
) -> float:
    ids, _, committed = await commit_events(sessions, size)
    return (await arrivals.wait(ids) - committed) * 1000


async def _bare(bus: KafkaBus, arrivals: Arrivals, tag: str) -> float:
    payload = f'{{"tag":"{tag}"}}'.encode()
    started = time.perf_counter()
    await bus.publish(f"{PREFIX}.{REPORTS}", tag, payload, {"event-id": tag})
    return (await arrivals.wait([tag]) - started) * 1000


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
