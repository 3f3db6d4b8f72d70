"""A partner's pause: until when it asked, with a ``Retry-After``, that nothing be sent to it.

RFC 6585 §4 and RFC 9110 §10.2.3 read the ``Retry-After`` of a 429 or a 503 as said to the
client, not of the one request: a dispatcher that held back only the delivery answered and
sent the partner's others meanwhile met a throttle with a burst (a partner limited to 4
requests a second still got 6.5 in one). So the wait is the partner's, kept on its row, where
every dispatcher's claim reads it, and none of its deliveries is claimed before it ends:

- a 429 (too many requests) is the partner's limit: only time ends it; a request it accepts
  meanwhile (one in flight, a test event) says nothing of that limit;
- a 503 (down) ends at its time too, or at the partner's next 2xx (a delivery that was in
  flight, a test event, a handshake passed): the partner is back.

A take-down waits like every delivery: the partner said it would take nothing before then,
and the wait is capped (``RetryPolicy.max_retry_after_s``, an hour). Once the pause ends, the
claim sends take-downs first, within the partner's concurrency limit as ever: no burst.
A delivery whose deadline passes meanwhile is dead-lettered by the sweep, as any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.models import Partner
from dispatcher.retry import RetryPolicy, asked_to_wait_s
from shared.clock import as_utc

PausingStatus = Literal[429, 503]


@dataclass(frozen=True)
class Pause:
    until: datetime
    status: PausingStatus  # what the partner answered with its Retry-After


def asks_for_pause(status: int | None) -> bool:
    """Whether an answer with this status may pause its partner (so its row is written)."""
    return status in (429, 503)


def pause_asked(
    policy: RetryPolicy, status: int | None, retry_after: str | None, now: datetime
) -> Pause | None:
    """The pause an answer asks for: a 429 or a 503 with a ``Retry-After`` that parses,
    capped like any. Without a ``Retry-After`` the partner said not for how long: only the
    delivery answered waits (its back-off)."""
    asked = asked_to_wait_s(policy, status, retry_after, now)
    if asked is None:
        return None
    return Pause(now + timedelta(seconds=asked), 429 if status == 429 else 503)


def pause(partner: Partner, asked: Pause) -> None:
    """``asked`` kept on the partner's row (locked by the caller); a shorter wait asked
    meanwhile (another request in flight) never cuts a longer one short."""
    if asked.status == 429:
        partner.throttled_until = _later(partner.throttled_until, asked.until)
    else:
        partner.unavailable_until = _later(partner.unavailable_until, asked.until)


def pause_of(partner: Partner, now: datetime) -> Pause | None:
    """The partner's pause in force at ``now``, if any: the later of the two."""
    held: tuple[tuple[datetime | None, PausingStatus], ...] = (
        (partner.throttled_until, 429),
        (partner.unavailable_until, 503),
    )
    ahead = [
        Pause(as_utc(until), status)
        for until, status in held
        if until is not None and as_utc(until) > now
    ]
    return max(ahead, key=lambda p: p.until, default=None)


def not_paused(now: datetime) -> ColumnElement[bool]:
    """Matches the partners (joined in the query) that may be sent something at ``now``."""
    return and_(
        or_(Partner.throttled_until.is_(None), Partner.throttled_until <= now),
        or_(Partner.unavailable_until.is_(None), Partner.unavailable_until <= now),
    )


def _later(stored: datetime | None, asked: datetime) -> datetime:
    return asked if stored is None else max(as_utc(stored), asked)
