"""In-process bus for the embedded mode: Kafka's semantics without a broker.

Each topic is a set of append-only partition logs; each consumer-group member owns a share
of the partitions and runs one worker per partition, so one key is handled in order while
different keys proceed concurrently. Positions (offsets) live in memory: what is durable in
this mode is the outbox, which the relay re-publishes after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from shared.bus.base import LOOK_AHEAD, Accepted, Handler, Message, Outgoing
from shared.bus.partitioning import partition_for
from shared.bus.processing import MessageHandling
from shared.supervision import Supervisor

log = logging.getLogger(__name__)

_IDLE_PASS_S = 1.0  # seconds a worker waits for a message before its pass ends


@dataclass
class _Partition:
    log: list[Message] = field(default_factory=list)
    grown: asyncio.Condition = field(default_factory=asyncio.Condition)


@dataclass
class _Member:
    topic: str
    group: str
    handler: Handler


class InProcessBus:
    def __init__(
        self,
        *,
        partitions: int = 3,
        max_attempts: int = 5,
        dead_letter_topic: str = "dead-letter",
        supervisor: Supervisor | None = None,
    ) -> None:
        self._partitions = partitions
        self._supervisor = supervisor or Supervisor(stale_after_s=60.0)
        self._topics: dict[str, list[_Partition]] = {}
        self._members: list[_Member] = []
        # committed position per (group, topic, partition): the next offset to handle
        self._committed: dict[tuple[str, str, int], int] = defaultdict(int)
        self._busy: set[tuple[str, str, int]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._assigned: list[tuple[_Member, int]] = []
        self._stopping = asyncio.Event()
        self._idle = asyncio.Condition()
        self._handling = MessageHandling(
            self.publish, dead_letter_topic, max_attempts, self._stopping
        )

    def _partitions_of(self, topic: str) -> list[_Partition]:
        if topic not in self._topics:
            self._topics[topic] = [_Partition() for _ in range(self._partitions)]
        return self._topics[topic]

    async def start(self) -> None:
        self._stopping.clear()
        by_group: dict[tuple[str, str], list[_Member]] = defaultdict(list)
        for member in self._members:
            by_group[(member.group, member.topic)].append(member)
        for (group, topic), members in by_group.items():
            # Range-style assignment, as a Kafka group would balance its members.
            for partition in range(self._partitions):
                member = members[partition % len(members)]
                self._assigned.append((member, partition))
                self._tasks.append(
                    asyncio.create_task(
                        self._consume(member, partition), name=f"bus:{group}:{topic}:{partition}"
                    )
                )

    async def stop(self) -> None:
        self._stopping.set()
        for partitions in self._topics.values():
            for part in partitions:
                async with part.grown:
                    part.grown.notify_all()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._assigned.clear()
        # Like a Kafka consumer leaving its group: the members go, the positions stay, and a
        # member that subscribes again resumes from the group's committed position.
        self._members.clear()

    def subscribe(self, topic: str, group: str, handler: Handler) -> None:
        self._partitions_of(topic)
        self._members.append(_Member(topic, group, handler))

    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        partition_no = partition_for(key, self._partitions)
        part = self._partitions_of(topic)[partition_no]
        async with part.grown:
            part.log.append(Message(topic, key, value, dict(headers), partition_no, len(part.log)))
            part.grown.notify_all()

    async def publish_in_order(self, messages: Sequence[Outgoing]) -> Accepted:
        for count, m in enumerate(messages):
            try:
                await self.publish(m.topic, m.key, m.value, m.headers)
            except Exception as exc:
                return Accepted(count, exc)
        return Accepted(len(messages))

    async def reachable(self) -> bool:
        return True

    def assignments(self) -> set[tuple[str, int]]:
        """(topic, partition) pairs this bus instance consumes."""
        return {(m.topic, p) for m, p in self._assigned}

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Until every group has handled everything published so far (for tests)."""
        async with asyncio.timeout(timeout), self._idle:
            await self._idle.wait_for(self._all_caught_up)

    def _all_caught_up(self) -> bool:
        for member in self._members:
            for partition_no, part in enumerate(self._partitions_of(member.topic)):
                position = (member.group, member.topic, partition_no)
                if self._committed[position] < len(part.log) or position in self._busy:
                    return False
        return True

    async def _consume(self, member: _Member, partition_no: int) -> None:
        """The partition's worker. It must never die quietly: nothing else reads its
        partition, so the alerts keyed to it would neither go out nor be taken down."""
        await self._supervisor.supervise(
            f"consumer:{member.group}:{member.topic}:{partition_no}",
            lambda: self._consume_next(member, partition_no),
            self._stopping,
        )

    async def _consume_next(self, member: _Member, partition_no: int) -> None:
        """Handle the partition's next message, or wait a while for one (a pass that ends
        now and then keeps the worker's pulse fresh while nothing comes)."""
        part = self._partitions_of(member.topic)[partition_no]
        position = (member.group, member.topic, partition_no)
        async with part.grown:
            try:
                async with asyncio.timeout(_IDLE_PASS_S):
                    await part.grown.wait_for(
                        lambda: self._stopping.is_set() or self._committed[position] < len(part.log)
                    )
            except TimeoutError:
                return
            if self._stopping.is_set():
                return
            at = self._committed[position]
            # As far ahead as a Kafka consumer's batch reaches: not the whole backlog
            # again for every message of a catch-up.
            message = replace(part.log[at], later=tuple(part.log[at + 1 : at + 1 + LOOK_AHEAD]))
        self._busy.add(position)
        try:
            handled = await self._handling.handle(message, member.handler)
            if handled:
                self._committed[position] = message.offset + 1
        finally:
            self._busy.discard(position)
            async with self._idle:
                self._idle.notify_all()
