"""What every bus backend promises, after Kafka's semantics.

- A message goes to one partition chosen by its key: one key, one order.
- Each consumer group receives every message once (members of a group share partitions).
- At-least-once: the position advances only after the handler returns; a handler that raises
  sees the message again; after ``max_attempts`` the message goes to the dead-letter topic.
- A look-ahead: a message comes with those after it on its partition that the consumer holds
  already (``Message.later``). What has arrived, never a promise of what will.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# The most messages a consumer fetches at once, and so the furthest it sees ahead of the one
# it handles (``Message.later``).
LOOK_AHEAD = 100


@dataclass(frozen=True)
class Message:
    topic: str
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    partition: int = 0
    offset: int = 0
    # The messages after this one on its partition that the consumer has fetched already, in
    # order: a handler may act on what it knows is coming (a case closed right behind its
    # approval, when both waited out an outage). Left out of comparisons and reprs.
    later: tuple[Message, ...] = field(default=(), repr=False, compare=False)


Handler = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Outgoing:
    """One message to publish."""

    topic: str
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    """How a run of messages fared: the first ``count`` are durably accepted; ``error`` is
    why the next one was not (``None`` when all were)."""

    count: int
    error: BaseException | None = None


class EventBus(Protocol):
    async def start(self) -> None:
        """Connect, and begin handing the subscribed topics' messages to their handlers."""

    async def stop(self) -> None:
        """Finish the message in hand, commit, leave the groups."""

    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        """Returns once the message is durably accepted (for Kafka: acknowledged by acks=all)."""

    async def publish_in_order(self, messages: Sequence[Outgoing]) -> Accepted:
        """Publish ``messages`` as if one after another, returning how many of them, from the
        first, are durably accepted. A message after a failed one may also have reached the
        broker: whoever re-sends from the failure on re-sends it too (consumers deduplicate),
        and it never lands ahead of an earlier message of its key."""

    def subscribe(self, topic: str, group: str, handler: Handler) -> None:
        """Register before ``start``; one call is one group member."""

    async def reachable(self) -> bool:
        """Whether the broker answers now (for readiness; the in-process bus always does)."""
