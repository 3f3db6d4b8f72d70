"""Kafka backend of the event bus (aiokafka), for production.

- Producer: idempotent (acks=all), so a retried send never duplicates or reorders a partition.
- Consumers: one group per service, auto-commit off; a partition's offset is committed only
  after its handler's database transaction has committed (at-least-once; handlers are
  idempotent). Partitions are handled concurrently, each one in order.
- Topics (and the dead-letter topic) are created at start-up, idempotently, and again when
  one vanishes under a running producer (shared/bus/lost_topics.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    InvalidReplicationFactorError,
    InvalidTopicError,
    KafkaError,
    for_code,
)

from shared.bus.base import LOOK_AHEAD, Accepted, Handler, Message, Outgoing
from shared.bus.coordinator_warm_up import quiet_coordinator_warm_up
from shared.bus.lost_topics import LostTopics
from shared.bus.processing import MessageHandling
from shared.supervision import Supervisor
from shared.transient_errors import describe

log = logging.getLogger(__name__)
_TOPIC_ALREADY_EXISTS = 36
PRODUCER_STOP_S = 5.0  # how long a stop lets the producer send what it holds
# How often clients ask for metadata unasked. aiokafka's 5 minutes (Kafka's default) left the
# consumers of a topic deleted and made again with no partitions, reading nothing, until the
# next refresh (and an idle producer blind to a topic gone); a metadata request every few
# seconds per client is nothing to a broker.
METADATA_MAX_AGE_MS = 5_000


@dataclass
class _Member:
    topic: str
    group: str
    handler: Handler
    consumer: Any = None
    task: asyncio.Task[None] | None = None


class _CommitDoneOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before partitions move to another member, commit what this one has finished, so the
    next owner starts exactly after it (the main loop also commits after every batch)."""

    def __init__(self, consumer: AIOKafkaConsumer, done: dict[TopicPartition, int]) -> None:
        self._consumer = consumer
        self._done = done

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        offsets = {tp: self._done.pop(tp) for tp in list(revoked) if tp in self._done}
        if offsets:
            try:
                await self._consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError):
                log.warning("commit on revoke failed; the next owner may see duplicates")

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        return None


async def ensure_topics(
    bootstrap: str,
    topics: Sequence[str],
    *,
    partitions: int,
    replication_factor: int,
    min_insync_replicas: int = 1,
) -> list[str]:
    """Creates the missing topics with ``replication_factor`` replicas and the topic config
    ``min.insync.replicas``. Existing topics are left as they are — changing a live topic's
    replicas is a reassignment an operator plans — but one with fewer replicas than asked for
    is named in a warning: a deployment grown from one broker to three keeps its old topics
    at one replica, and a lost broker would lose their events. Returns the topics it made."""
    if not 1 <= min_insync_replicas <= replication_factor:
        raise ValueError(
            f"min.insync.replicas ({min_insync_replicas}) must be between 1 and the "
            f"replication factor ({replication_factor})"
        )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        await _warn_if_under_replicated(
            admin, [t for t in topics if t in existing], replication_factor
        )
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name=t,
                    num_partitions=partitions,
                    replication_factor=replication_factor,
                    topic_configs={"min.insync.replicas": str(min_insync_replicas)},
                )
                for t in missing
            ]
        )
        for topic, code, *_ in response.topic_errors:
            # Another process may have created it between our look and our request.
            if code in (0, _TOPIC_ALREADY_EXISTS):
                continue
            error = for_code(code)
            if error.retriable:  # a controller moving, a time-out: passes with time
                raise error(f"could not create topic {topic}")
            raise TopicsRefused(_refusal(topic, error, replication_factor))
        return missing
    finally:
        await admin.close()


class TopicsRefused(Exception):
    """The cluster will not create a topic as the settings ask (more replicas than it has
    brokers, a name it does not allow): waiting will not change that, a setting must."""


def _refusal(topic: str, error: type[KafkaError], replication_factor: int) -> str:
    said = f"the Kafka cluster refused to create the topic {topic} ({error.__name__})"
    if issubclass(error, InvalidReplicationFactorError):
        return (
            f"{said}: it has fewer brokers than TIFLI_KAFKA_REPLICATION_FACTOR "
            f"({replication_factor})"
        )
    if issubclass(error, InvalidTopicError):
        return f"{said}: TIFLI_TOPIC_PREFIX may hold letters, digits, '.', '_' and '-'"
    return said


async def _warn_if_under_replicated(
    admin: AIOKafkaAdminClient, topics: Sequence[str], replication_factor: int
) -> None:
    if not topics or replication_factor == 1:
        return
    short = {
        described["topic"]: min(len(p["replicas"]) for p in described["partitions"])
        for described in await admin.describe_topics(list(topics))
        if described["partitions"]
    }
    short = {topic: n for topic, n in short.items() if n < replication_factor}
    if short:
        log.warning(
            "topics have fewer replicas than TIFLI_KAFKA_REPLICATION_FACTOR; reassign their "
            "partitions (kafka-reassign-partitions) to make them as safe as new topics",
            extra={"replicas": short, "replication_factor": replication_factor},
        )


async def broker_reachable(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """For readiness probes: does the cluster answer a metadata request in time?"""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await admin.list_topics()
        return True
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        await admin.close()


class KafkaBus:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        partitions: int,
        max_attempts: int,
        dead_letter_topic: str,
        topics: Sequence[str],
        replication_factor: int = 1,
        min_insync_replicas: int = 1,
        client_id: str = "tifli",
        max_batch: int = LOOK_AHEAD,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._partitions = partitions
        self._topics = [*topics, dead_letter_topic]
        if not 1 <= min_insync_replicas <= replication_factor:
            raise ValueError("min_insync_replicas must be between 1 and replication_factor")
        self._replication_factor = replication_factor
        self._min_insync_replicas = min_insync_replicas
        self._client_id = client_id
        self._max_batch = max_batch
        self._supervisor = supervisor or Supervisor(stale_after_s=60.0)
        self._members: list[_Member] = []
        self._producer: AIOKafkaProducer | None = None
        self._lost_topics = LostTopics(self._make_topics)
        self._stopping = asyncio.Event()
        self._handling = MessageHandling(
            self.publish, dead_letter_topic, max_attempts, self._stopping
        )

    def subscribe(self, topic: str, group: str, handler: Handler) -> None:
        self._members.append(_Member(topic, group, handler))

    async def _make_topics(self) -> list[str]:
        """The missing topics made, as the settings say: at start-up and whenever one vanishes."""
        return await ensure_topics(
            self._bootstrap,
            sorted({*self._topics, *(m.topic for m in self._members)}),
            partitions=self._partitions,
            replication_factor=self._replication_factor,
            min_insync_replicas=self._min_insync_replicas,
        )

    async def start(self) -> None:
        self._stopping.clear()
        await self._make_topics()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=0,
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        await self._producer.start()
        self._producer.client.cluster.add_listener(self._lost_topics.metadata_updated)
        # A fresh cluster's first group lookups are answered "not available" for a moment.
        quiet_coordinator_warm_up()
        for member in self._members:
            member.consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=member.group,
                client_id=f"{self._client_id}-{member.group}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=10_000,
                heartbeat_interval_ms=1_000,
                max_poll_interval_ms=300_000,
                fetch_max_wait_ms=50,
                metadata_max_age_ms=METADATA_MAX_AGE_MS,
            )
            await member.consumer.start()
            done: dict[TopicPartition, int] = {}
            member.consumer.subscribe(
                [member.topic], listener=_CommitDoneOnRevoke(member.consumer, done)
            )
            member.task = asyncio.create_task(
                self._consume(member, done), name=f"kafka:{member.group}:{member.topic}"
            )

    async def stop(self) -> None:
        """Finish the batch in hand, commit it, leave the groups, flush the producer."""
        self._stopping.set()
        for member in self._members:
            if member.task is not None:
                await asyncio.gather(member.task, return_exceptions=True)
            if member.consumer is not None:
                await member.consumer.stop()
                member.consumer = None
        if self._producer is not None:
            # A topic is not made again while the producer is stopping: nothing is sent now.
            self._producer.client.cluster.remove_listener(self._lost_topics.metadata_updated)
            await self._lost_topics.close()
            try:
                # It sends what it holds first: the broker away, that would wait for its return.
                # What it holds is not lost: the relay marks an event sent only once the
                # broker has acknowledged it.
                await asyncio.wait_for(self._producer.stop(), PRODUCER_STOP_S)
            except TimeoutError:
                log.warning("the broker took nothing in hand before the stop; left for later")
            self._producer = None

    async def reachable(self, timeout_s: float = 3.0) -> bool:
        """One metadata request over the producer's own connections: cheap enough for every
        readiness probe, unlike a new client per probe."""
        if self._producer is None:
            return False
        try:
            async with asyncio.timeout(timeout_s):
                await self._producer.client.fetch_all_metadata()
        except (TimeoutError, KafkaError, OSError):
            return False
        return True

    def assignments(self) -> set[tuple[str, int]]:
        """(topic, partition) pairs currently assigned to this instance's consumers."""
        return {
            (tp.topic, tp.partition)
            for m in self._members
            if m.consumer is not None
            for tp in m.consumer.assignment()
        }

    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        if self._producer is None:
            raise RuntimeError("the bus is not started")
        self._lost_topics.sent_to(topic)
        await self._producer.send_and_wait(
            topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )

    async def publish_in_order(self, messages: Sequence[Outgoing]) -> Accepted:
        """All of them handed to the producer first, then their acknowledgements awaited
        together: a run of events costs about one round trip to the broker instead of one
        each. Order holds because the idempotent producer keeps one batch per partition in
        flight and retries a failed batch, before any later one, until the broker has it."""
        if self._producer is None:
            raise RuntimeError("the bus is not started")
        acknowledgements: list[asyncio.Future[Any]] = []
        refused: Exception | None = None
        for m in messages:
            self._lost_topics.sent_to(m.topic)
            try:
                acknowledgements.append(
                    await self._producer.send(
                        m.topic,
                        m.value,
                        key=m.key.encode(),
                        headers=[(k, v.encode()) for k, v in m.headers.items()],
                    )
                )
            except Exception as exc:  # refused before sending: nothing after it is handed over
                refused = exc
                break
        outcomes = await asyncio.gather(*acknowledgements, return_exceptions=True)
        for count, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):  # a cancelled send counts as failed
                return Accepted(count, outcome)
        return Accepted(len(outcomes), refused)

    async def _consume(self, member: _Member, done: dict[TopicPartition, int]) -> None:
        """The member's loop. It must never die quietly: a member whose loop has stopped
        still heartbeats, so the group would leave its partitions with nobody reading them."""
        await self._supervisor.supervise(
            f"consumer:{member.group}", lambda: self._consume_batch(member, done), self._stopping
        )

    async def _consume_batch(self, member: _Member, done: dict[TopicPartition, int]) -> None:
        consumer = member.consumer
        batch = await consumer.getmany(timeout_ms=100, max_records=self._max_batch)
        if batch:
            # Partitions in parallel, each partition in order: per-key order holds.
            await asyncio.gather(
                *(
                    self._handle_partition(member, tp, records, done)
                    for tp, records in batch.items()
                )
            )
        await _commit_done(consumer, done)

    async def _handle_partition(
        self,
        member: _Member,
        tp: TopicPartition,
        records: list[Any],
        done: dict[TopicPartition, int],
    ) -> None:
        fetched = [
            Message(
                topic=record.topic,
                key=(record.key or b"").decode(),
                value=record.value,
                headers={k: v.decode() for k, v in (record.headers or ())},
                partition=record.partition,
                offset=record.offset,
            )
            for record in records
        ]
        for index, plain in enumerate(fetched):
            message = replace(plain, later=tuple(fetched[index + 1 :]))
            try:
                handled = await self._handling.handle(message, member.handler)
            except Exception as exc:  # e.g. the dead-letter topic unreachable
                log.warning("record not handled", extra=describe(exc))
                handled = False
            if not handled:
                # Rewind, so this record is the first one fetched again (by whoever owns the
                # partition by then); the rest of the batch waits behind it, in order.
                if tp in member.consumer.assignment():
                    member.consumer.seek(tp, message.offset)
                return
            done[tp] = message.offset + 1


async def _commit_done(consumer: AIOKafkaConsumer, done: dict[TopicPartition, int]) -> None:
    """Commit what is finished, for the partitions this member still owns."""
    offsets = {tp: done.pop(tp) for tp in list(done)}
    assigned = consumer.assignment()
    offsets = {tp: offset for tp, offset in offsets.items() if tp in assigned}
    if not offsets:
        return
    try:
        await consumer.commit(offsets)
    except (CommitFailedError, IllegalStateError):
        # The group rebalanced under us: the new owner re-processes, idempotently.
        log.warning("offset commit failed; duplicates possible")
