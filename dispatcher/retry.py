"""When to try a webhook again: pure, given the attempt count and the response."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

Outcome = Literal["delivered", "retry", "dead", "disable"]


@dataclass(frozen=True)
class RetryPolicy:
    schedule_s: tuple[float, ...]
    jitter: float = 0.2
    max_retry_after_s: float = 3600.0
    # A take-down is tried at least this often: a found child's alert comes down within
    # minutes of the partner answering again, not at the next step of an hourly back-off
    # (nothing else tells the dispatcher the partner is back). 72 h of retries at this
    # pace are some 860 requests to a partner that is down: nothing to it.
    take_down_max_delay_s: float = 300.0

    def delay_after(self, attempts: int, rng: random.Random, *, take_down: bool = False) -> float:
        """Delay before attempt ``attempts + 1``: the schedule, then its last step forever
        (for a take-down, no step longer than ``take_down_max_delay_s``), each with ±jitter
        so that a partner coming back is not hit by a synchronised wave."""
        index = min(attempts, len(self.schedule_s) - 1)
        base = self.schedule_s[index]
        if take_down:
            base = min(base, self.take_down_max_delay_s)
        return max(0.0, base * (1 + rng.uniform(-self.jitter, self.jitter)))


def classify(status: int | None) -> Outcome:
    """``None`` is a transport error or time-out. Redirects are failures: never followed."""
    if status is not None and 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "disable"
    return "retry"


def retry_after_s(header: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), if it parses."""
    if not header:
        return None
    header = header.strip()
    # ASCII digits only: ``isdigit`` also takes "²" or "①" (a header is read as Latin-1 or
    # UTF-8), which ``float`` refuses, and the ValueError left the attempt unrecorded, the
    # delivery 'sending' and its Cancel held back a lease at a time, again at every try.
    if header.isascii() and header.isdigit():
        return float(header)
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        # "-0000" (RFC 5322: UTC, local zone unknown) or no zone at all parse without one;
        # an HTTP date is in GMT. (Subtracting it from an aware time raised TypeError, which
        # left the attempt unrecorded and the delivery stuck until its lease ran out.)
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def next_attempt_at(
    policy: RetryPolicy,
    *,
    attempts: int,
    now: datetime,
    deadline: datetime,
    status: int | None,
    retry_after: str | None,
    rng: random.Random,
    take_down: bool = False,
) -> datetime | None:
    """When to try next, or ``None`` if the next try would land past the deadline. A
    partner's own ``Retry-After`` is honoured for a take-down too (capped like any)."""
    delay = policy.delay_after(attempts, rng, take_down=take_down)
    asked = asked_to_wait_s(policy, status, retry_after, now)
    if asked is not None:
        delay = max(delay, asked)
    when = now + timedelta(seconds=delay)
    return when if when <= deadline else None


def asked_to_wait_s(
    policy: RetryPolicy, status: int | None, retry_after: str | None, now: datetime
) -> float | None:
    """How long the partner asked to wait (its ``Retry-After`` on a 429 or a 503, capped),
    if it did."""
    if status not in (429, 503):
        return None
    honoured = retry_after_s(retry_after, now)
    return None if honoured is None else min(honoured, policy.max_retry_after_s)


def throttled_until(
    policy: RetryPolicy, status: int | None, retry_after: str | None, now: datetime
) -> datetime | None:
    """Until when a partner that answered 429 (too many requests) with a ``Retry-After``
    asked not to be sent the request again: another of its requests accepted meanwhile
    says nothing of that limit. (A 503 says the partner is down: a 2xx says it is back.)"""
    asked = asked_to_wait_s(policy, status, retry_after, now) if status == 429 else None
    return None if asked is None else now + timedelta(seconds=asked)
