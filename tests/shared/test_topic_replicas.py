"""Existing topics are never altered at start-up, but one with fewer replicas than the
settings ask for is named in a warning (a deployment grown from one broker to several)."""

from __future__ import annotations

import logging
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.bus.kafka import ensure_topics

pytestmark = pytest.mark.kafka


async def _replicas(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [len(p["replicas"]) for p in described["partitions"]]


async def test_an_under_replicated_existing_topic_is_named_not_altered(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    topic = f"replicas-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=2, replication_factor=1)
    with caplog.at_level(logging.WARNING, logger="shared.bus.kafka"):
        await ensure_topics(
            kafka_bootstrap, [topic], partitions=2, replication_factor=3, min_insync_replicas=2
        )
    [warning] = [r for r in caplog.records if "fewer replicas" in r.getMessage()]
    assert warning.replicas == {topic: 1}  # type: ignore[attr-defined]
    assert await _replicas(kafka_bootstrap, topic) == [1, 1]
