"""Handling one message: retry what may succeed later, dead-letter what never will.

Shared by both bus backends so that a handler behaves the same in the embedded mode
and on Kafka.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import Counter
from pydantic import ValidationError

from shared.bus.base import Handler, Message
from shared.transient_errors import describe, is_transient

log = logging.getLogger(__name__)

# Alerting on it is how an operator learns of a message that will never be processed (an
# approval whose alert could not be built): the topic alone is read by nobody.
DEAD_LETTERED = Counter(
    "tifli_events_dead_lettered_total",
    "Events parked on the dead-letter topic, by the topic they came from.",
    ["topic"],
)

DeadLetter = Callable[[Message, str], Awaitable[None]]
Publish = Callable[[str, str, bytes, dict[str, str]], Awaitable[None]]


class PoisonMessage(Exception):
    """Raised by a handler for a message that can never be processed (retrying is futile)."""


def retry_delay_s(attempt: int) -> float:
    """How long to wait before handling attempt ``attempt`` again."""
    # Short at first: events drive urgent alerts, and most failures are a busy database;
    # capped low so that an event waiting out an outage goes through soon after it ends.
    return float(min(0.05 * 2 ** (attempt - 1), 5.0))


def _reason(exc: Exception) -> str:
    """Why, without the message's content: validation errors name fields, never values."""
    if isinstance(exc, ValidationError):
        # A whole message of the wrong shape (not an object, say) has errors without a place.
        fields = ", ".join(
            ".".join(map(str, e["loc"])) or "(the message)" for e in exc.errors()[:10]
        )
        return f"{type(exc).__name__} at {fields}"
    return type(exc).__name__


async def handle_with_retries(
    message: Message,
    handler: Handler,
    *,
    max_attempts: int,
    dead_letter: DeadLetter,
    stopping: asyncio.Event,
) -> bool:
    """Run ``handler`` until it succeeds or gives up; returns False if stopped mid-way
    (the message was not handled and must be seen again by whoever takes over).

    Poison (a message that can never be processed) goes to the dead-letter topic at once;
    other errors after ``max_attempts``; transient infrastructure errors (the database down,
    restarting or in recovery: see ``shared.transient_errors``) are retried until they pass
    or the process stops — parking the message would silently drop an alert.
    """
    # Only exception *types* are logged: messages may carry personal data, which must never
    # reach a log.
    attempt = 0
    while True:
        attempt += 1
        try:
            await handler(message)
            return True
        except (PoisonMessage, ValidationError) as exc:
            await dead_letter(message, f"poison: {_reason(exc)}")
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            transient = is_transient(exc)
            # The first failure and then every tenth: an outage must not flood the log.
            if attempt % 10 == 1:
                log.warning(
                    "handler failed",
                    extra={
                        "topic": message.topic,
                        "offset": message.offset,
                        "attempt": attempt,
                        "transient": transient,
                        **describe(exc),
                    },
                )
            if attempt >= max_attempts and not transient:
                await dead_letter(message, f"failed {attempt} times: {_reason(exc)}")
                return True
            if stopping.is_set():
                return False
            try:
                await asyncio.wait_for(stopping.wait(), retry_delay_s(attempt))
                return False
            except TimeoutError:
                pass


async def send_to_dead_letter(publish: Publish, topic: str, message: Message, reason: str) -> None:
    """Park ``message`` on the dead-letter topic, with where it came from and why."""
    # The reason names exception types and fields, never values: it may be logged.
    log.error(
        "dead-lettered",
        extra={"topic": message.topic, "offset": message.offset, "reason": reason},
    )
    await publish(topic, message.key, message.value, dead_letter_headers(message, reason))
    DEAD_LETTERED.labels(message.topic).inc()


def dead_letter_headers(message: Message, reason: str) -> dict[str, str]:
    """The message's headers plus where it came from and why it failed, for whoever reads the dead
    letters."""
    return {
        **message.headers,
        "dlq-original-topic": message.topic,
        "dlq-original-partition": str(message.partition),
        "dlq-original-offset": str(message.offset),
        "dlq-reason": reason,
    }


@dataclass(frozen=True)
class MessageHandling:
    """What both backends do with each message they deliver, in one place: the same retry
    policy, the same dead-letter topic and headers, the same reaction to a stop."""

    publish: Publish
    dead_letter_topic: str
    max_attempts: int
    stopping: asyncio.Event

    async def handle(self, message: Message, handler: Handler) -> bool:
        """True once the message is done with (handled or dead-lettered); False if the bus
        stopped first, so the position must not advance past it."""
        return await handle_with_retries(
            message,
            handler,
            max_attempts=self.max_attempts,
            dead_letter=self.dead_letter,
            stopping=self.stopping,
        )

    async def dead_letter(self, message: Message, reason: str) -> None:
        await send_to_dead_letter(self.publish, self.dead_letter_topic, message, reason)
