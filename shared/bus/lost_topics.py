"""A topic that vanishes under a running producer is made again, as at start-up.

A broker wiped and started empty, or a topic deleted by hand: the cluster makes no topic by
itself (``auto.create.topics.enable=false``: a topic made with the broker's defaults would
hide a missing set-up), so a send to it waits for a topic that never comes back — aiokafka
asking the broker for its metadata thousands of times a second meanwhile — until a restart
makes the topics at start-up. Here the producer's own metadata says when a topic it has sent
to is gone, and the start-up's code makes it again, with the configured partitions and
replicas.

A metadata refresh can come thousands of times a second while a send waits, so one attempt
runs at a time, and attempts are spaced out (further while they fail: a cluster refusing the
topic is said every half minute, not every refresh).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any

from shared.supervision import Backoff
from shared.transient_errors import describe

log = logging.getLogger(__name__)

# Makes the missing topics; returns those it made (none: they were all there by then).
MakeTopics = Callable[[], Awaitable[Sequence[str]]]


class LostTopics:
    def __init__(self, make: MakeTopics, *, backoff: Backoff | None = None) -> None:
        self._make = make
        self._backoff = backoff or Backoff(first_s=1.0, cap_s=30.0)
        self._sent_to: set[str] = set()
        self._attempt: asyncio.Task[None] | None = None
        self._failures = 0
        self._not_before = 0.0  # monotonic time of the earliest next attempt

    def sent_to(self, topic: str) -> None:
        """``topic`` is handed to the producer: from now on its metadata should hold it."""
        self._sent_to.add(topic)

    def metadata_updated(self, cluster: Any) -> None:
        """The producer's metadata listener (aiokafka's ``ClusterMetadata``): called, in the
        event loop, after each refresh."""
        if self._attempt is not None and not self._attempt.done():
            return
        gone = sorted(self._sent_to - cluster.topics())
        if gone:
            self._attempt = asyncio.create_task(self._make_again(gone), name="kafka:lost-topics")

    async def close(self) -> None:
        if self._attempt is not None:
            self._attempt.cancel()
            with suppress(asyncio.CancelledError):
                await self._attempt
            self._attempt = None

    async def _make_again(self, gone: list[str]) -> None:
        await asyncio.sleep(max(0.0, self._not_before - time.monotonic()))
        try:
            made = await self._make()
        except Exception as exc:  # the broker away, or refusing: tried again, later
            self._failures += 1
            log.warning(
                "topics are missing from the Kafka cluster and could not be made again",
                extra={"topics": gone, "attempts": self._failures, **describe(exc)},
            )
        else:
            self._failures = 0
            if made:
                log.warning(
                    "topics were missing from the Kafka cluster (wiped, or deleted): "
                    "made again as at start-up",
                    extra={"topics": list(made)},
                )
        self._not_before = time.monotonic() + self._backoff.delay_s(max(self._failures, 1))
