"""One contract, two backends: the in-process bus and a real Kafka broker must behave alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from shared.bus.base import Accepted, EventBus, Message, Outgoing
from shared.bus.kafka import KafkaBus
from shared.bus.memory import InProcessBus
from shared.bus.processing import PoisonMessage, handle_with_retries
from shared.db import create_engine, session_factory
from shared.events import parse_event
from shared.inbox import ProcessedEvent, first_delivery

PARTITIONS = 3


@dataclass
class Recorder:
    """A handler that records what it saw and lets a test await a count."""

    seen: list[Message] = field(default_factory=list)
    fail_first: set[str] = field(default_factory=set)  # values that fail once
    poison: set[str] = field(default_factory=set)
    always_fail: set[str] = field(default_factory=set)
    outage: dict[str, int] = field(default_factory=dict)  # value -> failures before success
    attempts: dict[str, int] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def __call__(self, message: Message) -> None:
        value = message.value.decode()
        self.attempts[value] = self.attempts.get(value, 0) + 1
        if value in self.poison:
            raise PoisonMessage(value)
        if self.attempts[value] <= self.outage.get(value, 0):
            raise OperationalError("SELECT 1", {}, ConnectionError("database restarting"))
        if value in self.always_fail or (value in self.fail_first and self.attempts[value] == 1):
            raise RuntimeError("handler crashed")
        async with self._changed:
            self.seen.append(message)
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float = 60) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.seen) >= count)

    def values(self) -> list[str]:
        return [m.value.decode() for m in self.seen]


@dataclass
class BusFactory:
    """Makes bus instances of one backend; Kafka instances share a unique topic namespace."""

    kind: str
    make: Callable[[], EventBus]
    topic: str
    dead_letter: str
    started: list[EventBus] = field(default_factory=list)

    async def start(self, bus: EventBus) -> EventBus:
        await bus.start()
        self.started.append(bus)
        return bus


@pytest.fixture(params=["in-process", "kafka"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    run = uuid.uuid4().hex[:8]
    topic, dead_letter = f"test-{run}.events", f"test-{run}.dead-letter"
    if request.param == "in-process":
        shared = InProcessBus(partitions=PARTITIONS, max_attempts=3, dead_letter_topic=dead_letter)
        factory = BusFactory("in-process", lambda: shared, topic, dead_letter)
    else:
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        factory = BusFactory(
            "kafka",
            lambda: KafkaBus(
                bootstrap,
                partitions=PARTITIONS,
                max_attempts=3,
                dead_letter_topic=dead_letter,
                topics=[topic],
            ),
            topic,
            dead_letter,
        )
    yield factory
    for bus in reversed(factory.started):
        await bus.stop()


async def _publish(bus: EventBus, topic: str, items: list[tuple[str, str]]) -> None:
    for key, value in items:
        await bus.publish(topic, key, value.encode(), {"event-id": value})


async def _published_then_consumed(buses: BusFactory, items: list[tuple[str, str]]) -> Recorder:
    """``items`` published while no member of group "g" runs, then a member started: what
    it received, once it has them all."""
    publisher = buses.make()
    if buses.kind == "kafka":
        await buses.start(publisher)
    await _publish(publisher, buses.topic, items)
    recorder = Recorder()
    consumer = buses.make()
    consumer.subscribe(buses.topic, "g", recorder)
    if consumer is not publisher or buses.kind == "in-process":
        await buses.start(consumer)
    await recorder.wait_for(len(items))
    return recorder


async def test_per_key_order(buses: BusFactory) -> None:
    bus, recorder = buses.make(), Recorder()
    bus.subscribe(buses.topic, "g", recorder)
    await buses.start(bus)
    items = [(f"case-{k}", f"case-{k}:{i}") for i in range(25) for k in range(6)]
    await _publish(bus, buses.topic, items)
    await recorder.wait_for(len(items))
    for k in range(6):
        mine = [v for v in recorder.values() if v.startswith(f"case-{k}:")]
        assert mine == [f"case-{k}:{i}" for i in range(25)]
    partitions = {m.partition for m in recorder.seen}
    assert len(partitions) > 1  # keys really were spread over partitions


async def test_a_run_published_in_order_arrives_in_order(buses: BusFactory) -> None:
    bus, recorder = buses.make(), Recorder()
    bus.subscribe(buses.topic, "g", recorder)
    await buses.start(bus)
    items = [(f"case-{k}", f"case-{k}:{i}") for i in range(20) for k in range(5)]

    accepted = await bus.publish_in_order(
        [Outgoing(buses.topic, key, value.encode(), {"event-id": value}) for key, value in items]
    )

    assert accepted == Accepted(len(items))
    await recorder.wait_for(len(items))
    for k in range(5):
        mine = [v for v in recorder.values() if v.startswith(f"case-{k}:")]
        assert mine == [f"case-{k}:{i}" for i in range(20)]


async def test_redelivery_after_a_handler_crash(buses: BusFactory) -> None:
    bus, recorder = buses.make(), Recorder(fail_first={"k:1"})
    bus.subscribe(buses.topic, "g", recorder)
    await buses.start(bus)
    await _publish(bus, buses.topic, [("k", "k:0"), ("k", "k:1"), ("k", "k:2")])
    await recorder.wait_for(3)
    assert recorder.values() == ["k:0", "k:1", "k:2"]  # retried in place, order kept
    assert recorder.attempts["k:1"] == 2


async def test_poison_and_exhausted_messages_are_dead_lettered(buses: BusFactory) -> None:
    bus, recorder = buses.make(), Recorder(poison={"k:bad"}, always_fail={"k:broken"})
    dead = Recorder()
    bus.subscribe(buses.topic, "g", recorder)
    bus.subscribe(buses.dead_letter, "dlq-reader", dead)
    before = _dead_lettered(buses.topic)
    await buses.start(bus)
    await _publish(bus, buses.topic, [("k", "k:bad"), ("k", "k:broken"), ("k", "k:fine")])
    await recorder.wait_for(1)
    await dead.wait_for(2)
    assert _dead_lettered(buses.topic) - before == 2  # what an operator's alert rule watches
    assert recorder.values() == ["k:fine"]  # the partition was not blocked
    assert recorder.attempts["k:bad"] == 1  # poison: no retry
    assert recorder.attempts["k:broken"] == 3  # max_attempts, then the DLQ
    assert sorted(dead.values()) == ["k:bad", "k:broken"]
    reasons = {m.value.decode(): m.headers["dlq-reason"] for m in dead.seen}
    assert reasons["k:bad"].startswith("poison")
    assert all(m.headers["dlq-original-topic"] == buses.topic for m in dead.seen)


def _dead_lettered(topic: str) -> float:
    counted = REGISTRY.get_sample_value("tifli_events_dead_lettered_total", {"topic": topic})
    return counted or 0.0


async def test_every_group_gets_every_message(buses: BusFactory) -> None:
    bus, engine, dispatcher = buses.make(), Recorder(), Recorder()
    bus.subscribe(buses.topic, "engine", engine)
    bus.subscribe(buses.topic, "dispatcher", dispatcher)
    await buses.start(bus)
    items = [(f"k{i}", f"v{i}") for i in range(20)]
    await _publish(bus, buses.topic, items)
    await engine.wait_for(20)
    await dispatcher.wait_for(20)
    assert sorted(engine.values()) == sorted(dispatcher.values()) == sorted(v for _, v in items)


async def test_restarted_consumer_resumes_from_committed_offset(buses: BusFactory) -> None:
    first = Recorder()
    bus = buses.make()
    bus.subscribe(buses.topic, "g", first)
    await buses.start(bus)
    await _publish(bus, buses.topic, [(f"k{i}", f"before-{i}") for i in range(10)])
    await first.wait_for(10)
    await bus.stop()
    buses.started.remove(bus)

    resumed = await _published_then_consumed(buses, [(f"k{i}", f"after-{i}") for i in range(10)])
    await asyncio.sleep(0)  # let any (wrong) re-delivery of old messages surface
    assert sorted(resumed.values()) == sorted(f"after-{i}" for i in range(10))


async def test_a_message_comes_with_those_fetched_behind_it(buses: BusFactory) -> None:
    """What waited while no consumer ran arrives together, and each message carries the
    ones behind it on its partition that the consumer holds already (``Message.later``), in
    order: how the alert engine sees a case closed right behind its approval."""
    items = [("case", f"case:{i}") for i in range(5)]
    recorder = await _published_then_consumed(buses, items)
    values = recorder.values()
    assert values == [v for _, v in items]
    for index, message in enumerate(recorder.seen):
        behind = [m.value.decode() for m in message.later]
        assert behind == values[index + 1 : index + 1 + len(behind)]  # in order, none skipped
    # All five were there before the consumer started: the first came with the other four
    # (Kafka hands over what one fetch returned; five small records are one fetch).
    assert [m.value.decode() for m in recorder.seen[0].later] == values[1:]


async def test_two_members_of_a_group_split_the_partitions(buses: BusFactory) -> None:
    one, two = Recorder(), Recorder()
    bus_one = buses.make()
    bus_one.subscribe(buses.topic, "g", one)
    bus_two = buses.make()
    bus_two.subscribe(buses.topic, "g", two)
    await buses.start(bus_one)
    if bus_two is not bus_one:
        await buses.start(bus_two)

    def split() -> bool:
        mine = bus_one.assignments()  # type: ignore[attr-defined]
        theirs = bus_two.assignments()  # type: ignore[attr-defined]
        return bool(mine) and bool(theirs) and len(mine | theirs) == PARTITIONS

    if bus_two is not bus_one:
        async with asyncio.timeout(60):
            while not split():  # a Kafka rebalance has no event to await from outside
                await asyncio.sleep(0.1)
    items = [(f"case-{i}", f"v{i}") for i in range(60)]
    await _publish(bus_one, buses.topic, items)
    async with asyncio.timeout(60):
        while len(one.seen) + len(two.seen) < len(items):
            await asyncio.sleep(0.05)
    assert one.seen and two.seen  # both did work
    assert sorted(one.values() + two.values()) == sorted(v for _, v in items)  # each once
    assert not {m.partition for m in one.seen} & {m.partition for m in two.seen}


async def test_an_outage_is_waited_out_not_dead_lettered(buses: BusFactory) -> None:
    # More failures than max_attempts (3): poison would be parked; an outage is retried.
    bus, recorder, dead = buses.make(), Recorder(outage={"k:1": 5}), Recorder()
    bus.subscribe(buses.topic, "g", recorder)
    bus.subscribe(buses.dead_letter, "dlq-reader", dead)
    await buses.start(bus)
    await _publish(bus, buses.topic, [("k", "k:0"), ("k", "k:1"), ("k", "k:2")])
    await recorder.wait_for(3)
    assert recorder.values() == ["k:0", "k:1", "k:2"]
    assert recorder.attempts["k:1"] == 6
    assert dead.seen == []


async def test_a_duplicate_event_takes_effect_once(buses: BusFactory, tmp_path: Path) -> None:
    """At-least-once on the wire, once in effect: the consumer records the event id in the
    same transaction as its effect (as every service's handler does)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'effects.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(ProcessedEvent.__table__.create)  # type: ignore[attr-defined]
    sessions = session_factory(engine)
    effects: list[str] = []
    seen = Recorder()

    async def handler(message: Message) -> None:
        async with sessions() as session, session.begin():
            if await first_delivery(session, "g", message.headers["event-id"], datetime.now(UTC)):
                effects.append(message.value.decode())
        await seen(message)

    bus = buses.make()
    bus.subscribe(buses.topic, "g", handler)
    await buses.start(bus)
    # The relay re-sends after a crash between publishing and marking: same event id.
    await _publish(bus, buses.topic, [("k", "e1"), ("k", "e1"), ("k", "e2"), ("k", "e1")])
    await seen.wait_for(4)
    await engine.dispose()
    assert effects == ["e1", "e2"]


async def test_a_message_of_the_wrong_shape_is_dead_lettered_saying_so() -> None:
    """The reason names where the message failed validation; for a message that is not
    even an object, the message itself (never its content)."""
    parked: list[str] = []

    async def dead_letter(message: Message, reason: str) -> None:
        parked.append(reason)

    async def handler(message: Message) -> None:
        parse_event(message.value)

    for value in (b"[1, 2]", b'{"type": "report.approved"}'):
        message = Message(topic="t", key="k", value=value, headers={}, partition=0, offset=0)
        handled = await handle_with_retries(
            message, handler, max_attempts=3, dead_letter=dead_letter, stopping=asyncio.Event()
        )
        assert handled
    assert parked[0] == "poison: ValidationError at (the message)"
    assert parked[1].startswith("poison: ValidationError at ") and "(the message)" not in parked[1]


class _RefusesDeadLetterOnce(InProcessBus):
    """An in-process bus whose first dead-letter publish fails: the one way found for its
    worker's pass to raise, standing for any other."""

    def __init__(self, dead_letter: str) -> None:
        super().__init__(partitions=1, max_attempts=1, dead_letter_topic=dead_letter)
        self._dead_letter, self.refused = dead_letter, 0

    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        if topic == self._dead_letter and not self.refused:
            self.refused += 1
            raise RuntimeError("dead-letter refused")
        await super().publish(topic, key, value, headers)


async def test_an_in_process_worker_whose_pass_fails_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In the embedded mode nothing else reads a partition: a worker that died with its pass
    would leave every later alert keyed to it unsent, and every take-down too."""
    bus = _RefusesDeadLetterOnce("dead")
    recorder, dead = Recorder(always_fail={"k:broken"}), Recorder()
    bus.subscribe("events", "g", recorder)
    bus.subscribe("dead", "dlq-reader", dead)
    await bus.start()
    try:
        await _publish(bus, "events", [("k", "k:broken"), ("k", "k:fine")])
        await recorder.wait_for(1, timeout=10)
        await dead.wait_for(1, timeout=10)
    finally:
        await bus.stop()
    assert bus.refused == 1
    assert recorder.values() == ["k:fine"]  # behind it, on the same partition
    assert dead.values() == ["k:broken"]  # parked on the pass after the failed one
    failed = [r for r in caplog.records if r.getMessage() == "loop pass failed; retrying"]
    assert [r.__dict__["loop"] for r in failed] == ["consumer:g:events:0"]
