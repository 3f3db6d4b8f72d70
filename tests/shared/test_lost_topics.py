"""A topic gone from the producer's metadata is made again: one attempt at a time, spaced out,
however often the metadata is refreshed meanwhile. (With a real broker:
tests/shared/test_relay.py.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import pytest
from aiokafka.errors import KafkaConnectionError

from shared.bus.lost_topics import LostTopics
from shared.supervision import Backoff


@dataclass
class Cluster:
    """What the listener reads of aiokafka's ``ClusterMetadata``."""

    known: set[str] = field(default_factory=set)

    def topics(self) -> set[str]:
        return set(self.known)


@dataclass
class Maker:
    made: Sequence[str] = ()
    fails: bool = False
    calls: list[float] = field(default_factory=list)
    called: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self) -> Sequence[str]:
        self.calls.append(time.monotonic())
        self.called.set()
        if self.fails:
            raise KafkaConnectionError()
        return self.made


async def test_only_a_topic_sent_to_and_gone_is_made_again() -> None:
    maker = Maker(made=["t.reports"])
    lost = LostTopics(maker, backoff=Backoff(first_s=0.05, cap_s=0.05))
    lost.metadata_updated(Cluster())  # nothing sent yet: nothing expected in its metadata
    lost.sent_to("t.reports")
    lost.metadata_updated(Cluster({"t.reports"}))  # still there
    await lost.close()
    assert maker.calls == []

    lost.metadata_updated(Cluster())
    async with asyncio.timeout(5):
        await maker.called.wait()
    await lost.close()
    assert len(maker.calls) == 1


async def test_a_storm_of_refreshes_makes_one_attempt_at_a_time_spaced_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # aiokafka refreshes metadata in a tight loop while a batch waits for a vanished topic.
    maker = Maker(fails=True)
    lost = LostTopics(maker, backoff=Backoff(first_s=0.1, cap_s=0.1))
    lost.sent_to("t.reports")
    gone = Cluster()
    until = time.monotonic() + 0.5
    with caplog.at_level("WARNING", logger="shared.bus.lost_topics"):
        while time.monotonic() < until:
            lost.metadata_updated(gone)
            await asyncio.sleep(0)  # one refresh per turn of the event loop
        await lost.close()

    assert 1 <= len(maker.calls) <= 6  # not one per refresh
    assert all(later - earlier >= 0.09 for earlier, later in pairwise(maker.calls))
    said = [r.__dict__ for r in caplog.records]
    assert len(said) == len(maker.calls)
    assert said[0]["topics"] == ["t.reports"] and said[0]["error"] == "KafkaConnectionError"
