"""A Kafka topic's records from a moment on, read once, as they stood when the reading began.

Its own consumer with no group: it commits no offset and joins no group, so the services'
positions on the topic stay as they were, and nothing is left behind on the broker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


class UnknownTopic(Exception):
    """The broker has no such topic: the prefix (TIFLI_TOPIC_PREFIX) is not this deployment's."""


class ReadStalled(Exception):
    """No record came for a while before a partition was read to its end: the broker went
    away (or stopped answering) after the reading began."""

    def __init__(self, partition: int, position: int, end: int) -> None:
        super().__init__(f"partition {partition} at offset {position} of {end}")
        self.partition, self.position, self.end = partition, position, end


@dataclass(frozen=True)
class History:
    values: list[bytes]  # each partition's records in their order, the partitions one after another
    # Partitions whose first record kept is at or after the moment asked for, with records
    # deleted before it (the topic's retention): some of those may have been after the moment.
    trimmed: list[int]


async def records_since(
    bootstrap: str, topic: str, since: datetime, *, timeout_ms: int = 30_000
) -> History:
    """The values of ``topic``'s records from the first stamped ``since`` or later, up to the
    end each partition had when the reading began (what is published meanwhile is not
    waited for). ``ReadStalled`` if a partition yields nothing for ``timeout_ms`` before
    its end: a consumer retries a broker that went away for as long as it is asked to."""
    numbers = await _partitions_of(bootstrap, topic, timeout_ms)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id="tifli-reports-reconcile",
        request_timeout_ms=timeout_ms,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, n) for n in sorted(numbers)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        firsts = await consumer.beginning_offsets(partitions)
        stamped = await consumer.offsets_for_times(
            {tp: int(since.timestamp() * 1000) for tp in partitions}
        )
        starts = {tp: ends[tp] if stamped[tp] is None else stamped[tp].offset for tp in partitions}
        trimmed = [tp.partition for tp in partitions if starts[tp] == firsts[tp] > 0]
        values: list[bytes] = []
        for tp in partitions:
            values.extend(await _read(consumer, tp, starts[tp], ends[tp], timeout_ms / 1000))
        return History(values, trimmed)
    finally:
        await consumer.stop()


async def _partitions_of(bootstrap: str, topic: str, timeout_ms: int) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        # Every topic's, not this one's alone: a broker that creates the topics asked for
        # would make a mistyped one, and this would read it, empty, as nothing to do.
        described = await admin.describe_topics()
    finally:
        await admin.close()
    for found in described:
        if found["topic"] == topic and not found["error_code"] and found["partitions"]:
            return [p["partition"] for p in found["partitions"]]
    raise UnknownTopic(topic)


async def _read(
    consumer: AIOKafkaConsumer, tp: TopicPartition, start: int, end: int, stall_s: float
) -> list[bytes]:
    """One partition's record values from offset ``start`` to just before ``end``;
    ``ReadStalled`` once the position has not moved for ``stall_s``."""
    values: list[bytes] = []
    if start >= end:
        return values
    consumer.seek(tp, start)
    moved_at, last = time.monotonic(), start
    while (position := await consumer.position(tp)) < end:
        if position != last:
            moved_at, last = time.monotonic(), position
        elif time.monotonic() - moved_at > stall_s:
            raise ReadStalled(tp.partition, position, end)
        batch = await consumer.getmany(tp, timeout_ms=1000)
        values.extend(r.value for r in batch.get(tp, ()) if r.offset < end and r.value)
    return values
