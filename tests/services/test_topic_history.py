"""Reading a topic's history (``services.topic_history``) ends: a partition that stops
yielding records before the end it was read to is given up after a while, and named, where
the reading waited on it for ever (a broker gone mid-read left ``tifli reports reconcile``
hanging until Ctrl-C)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.topic_history import ReadStalled, _read
from shared.bus.kafka import ensure_topics


@pytest.mark.kafka
async def test_a_partition_that_stops_yielding_records_is_given_up_and_named(
    kafka_bootstrap: str,
) -> None:
    topic = f"t{uuid.uuid4().hex[:8]}.history"
    await ensure_topics(kafka_bootstrap, [topic], partitions=1, replication_factor=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait(topic, f"record {n}".encode())
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        # To its end: every record, in order.
        assert await _read(consumer, tp, 0, 3, 5.0) == [b"record 0", b"record 1", b"record 2"]
        # Three records short of the end asked for: what a broker gone after the first fetch
        # looks like to the loop (fetches come back empty, the position stays).
        started = time.monotonic()
        with pytest.raises(ReadStalled) as stalled:
            await asyncio.wait_for(_read(consumer, tp, 1, 6, 1.0), timeout=60)
        waited = time.monotonic() - started
    finally:
        await consumer.stop()
    assert (stalled.value.partition, stalled.value.position, stalled.value.end) == (0, 3, 6)
    assert str(stalled.value) == "partition 0 at offset 3 of 6"
    assert waited >= 1.0  # not given up before the position had stood still that long
