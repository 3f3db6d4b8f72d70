"""Recording delivery attempts: each POST's outcome, written in batches.

Every attempt is written before its POST counts as done (the delivery's status, its attempt
row, its next try). One transaction per attempt made the dispatcher's database work grow
with every partner of every alert: six round trips each, the bulk of its time in a burst.
Outcomes that arrive while a batch is being written wait and go together in the next one,
in one transaction, so the cost per attempt falls as the load grows. Nothing waits on
purpose: alone, an outcome is written at once, as before.

An outcome not written (the process dies, the database stays away) leaves its delivery
``sending`` under a lease that runs out, and the delivery is sent again with the same
``webhook-id``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.catch_up import bring_forward
from dispatcher.metrics import ATTEMPT_SECONDS, ATTEMPTS, DEAD, LAG_SECONDS
from dispatcher.models import Delivery, DeliveryAttempt, Partner
from dispatcher.ordering import TAKE_DOWNS, replaced_by_newer
from dispatcher.pauses import Pause, asks_for_pause, pause, pause_asked
from dispatcher.retry import Outcome, RetryPolicy, classify, next_attempt_at, throttled_until
from dispatcher.sender import SendResult
from shared.clock import Clock, as_utc
from shared.transient_errors import is_transient

log = logging.getLogger(__name__)

_BATCH_MAX = 200  # attempts per transaction: a burst's worth, still a short transaction
_NOT_RECORDED = "the attempt was not recorded: shutting down"


@dataclass(frozen=True)
class Attempt:
    """One POST made: which delivery, to which partner, what came back and when."""

    delivery_id: str
    partner_id: str
    webhook_id: str
    result: SendResult
    answered_at: datetime  # the attempt's time, not its batch's
    # The lease its claim took: if the delivery holds another now, it was taken over.
    lease_until: datetime | None


@dataclass
class _Waiting:
    attempt: Attempt
    outcome: asyncio.Future[Outcome]


class AttemptRecorder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        retry: RetryPolicy,
        lease: timedelta,
        wake: Callable[[], None],
        rng: random.Random,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._retry = retry
        self._lease = lease
        self._wake = wake  # deliveries became due: the loop should look again
        self._rng = rng
        self._waiting: list[_Waiting] = []
        self._writing = False

    async def record(self, attempt: Attempt) -> Outcome:
        """Write ``attempt`` and return its outcome; raises if it could not be written.

        The first caller to find no batch being written writes batches until none are
        waiting; the others wait for theirs."""
        waiting = _Waiting(attempt, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if not self._writing:
            self._writing = True
            try:
                while self._waiting:
                    batch = self._waiting[:_BATCH_MAX]
                    del self._waiting[:_BATCH_MAX]
                    await self._write(batch)
            finally:
                self._writing = False
                # Cancelled mid-batch (shutdown): whoever still waits learns it now, not
                # never. Their deliveries are sent again when the leases run out.
                for left in self._waiting:
                    _fail(left, RuntimeError(_NOT_RECORDED))
                self._waiting.clear()
        return await waiting.outcome

    async def _write(self, batch: list[_Waiting]) -> None:
        """One transaction for the batch; if it fails for good, each attempt on its own, so
        that one attempt that cannot be written holds no other back."""
        try:
            outcomes = await self._patiently([w.attempt for w in batch])
        except asyncio.CancelledError:
            for waiting in batch:
                _fail(waiting, RuntimeError(_NOT_RECORDED))
            raise
        except Exception as exc:
            if len(batch) == 1 or is_transient(exc):
                for waiting in batch:
                    _fail(waiting, exc)
                return
            for waiting in batch:
                await self._write([waiting])
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if not waiting.outcome.done():
                waiting.outcome.set_result(outcome)

    async def _patiently(self, attempts: Sequence[Attempt]) -> list[Outcome]:
        """Write the attempts, waiting out a database blip, within half the lease: no other
        dispatcher takes a delivery over meanwhile. What they say (metrics, log lines) is
        said once they are written, and once only: a try whose commit failed may have gone
        through all the same (the answer lost with the connection), and the next finds it."""
        give_up_at = time.monotonic() + self._lease.total_seconds() / 2
        delay_s = 0.1
        unsure: _Applied | None = None  # the last try lost at its commit, wholly applied
        while True:
            applied = _Applied()
            try:
                await self._in_one_transaction(attempts, applied, unsure)
            except Exception as exc:
                transient = is_transient(exc)
                if transient and len(applied.outcomes) == len(attempts):
                    unsure = applied  # its commit may have gone through, the answer lost
                if not transient or time.monotonic() + delay_s > give_up_at:
                    # Given up while a try may have gone through: what it found is said all
                    # the same. Said twice if it did not (its delivery is tried again), rather
                    # than never if it did (a take-down given up on, stored dead, unsaid).
                    for say in unsure.said if unsure is not None else ():
                        say()
                    raise
            else:
                for say in applied.said:
                    say()
                return applied.outcomes
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 5.0)

    async def _in_one_transaction(
        self, attempts: Sequence[Attempt], applied: _Applied, unsure: _Applied | None
    ) -> None:
        """The attempts written, their outcomes and what they say put in ``applied``; or, if
        the ``unsure`` try did go through, what it found, and nothing written again."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # The partners these answers may pause or disable first, then the deliveries,
            # each in id order, as a verification locks them: two writers can never wait on
            # each other's rows (``row_locks``). A partner's keys are never written: its row
            # is locked as an UPDATE of it would, not against a delivery being planned for
            # it (whose foreign key's check holds it until planning commits).
            writing = {a.partner_id for a in attempts if _writes_partner(a.result.status)}
            partners: dict[str, Partner] = {}
            if writing:
                locked = await session.scalars(
                    select(Partner)
                    .where(Partner.id.in_(writing))
                    .order_by(Partner.id)
                    .with_for_update(key_share=True)
                    .execution_options(populate_existing=True)
                )
                partners = {p.id: p for p in locked}
            rows = await session.scalars(
                select(Delivery)
                .where(Delivery.id.in_({a.delivery_id for a in attempts}))
                .order_by(Delivery.id)
                .with_for_update()
            )
            deliveries = {d.id: d for d in rows}
            # Looked for once the rows are locked: a commit of the unsure try still finishing
            # on the server holds them until it ends, and its rows are seen then.
            if unsure is not None and await _already_written(session, attempts):
                applied.outcomes, applied.said = unsure.outcomes, unsure.said
                return
            # A few statements for the whole batch, however many attempts it holds: it
            # holds their rows, and every outcome after it waits. A query per attempt (the
            # newer versions, its row inserted) cost round trips per attempt, each flushing
            # the changes before it: a batch of failures during an outage took seconds.
            overtaken = await _overtaken(session, deliveries)
            history: list[dict[str, Any]] = []
            for a in attempts:
                delivery = deliveries.get(a.delivery_id)
                outcome = self._apply(
                    a, delivery, partners.get(a.partner_id), overtaken, history, applied.said
                )
                applied.outcomes.append(outcome)
            if history:
                await session.execute(insert(DeliveryAttempt), history)
            answering = {
                a.partner_id
                for a, o in zip(attempts, applied.outcomes, strict=True)
                if o == "delivered"
            }
            for partner_id in sorted(answering):
                if await bring_forward(session, partner_id, now):
                    self._wake()

    def _apply(
        self,
        attempt: Attempt,
        delivery: Delivery | None,
        partner: Partner | None,
        overtaken: set[str],
        history: list[dict[str, Any]],
        said: list[Callable[[], None]],
    ) -> Outcome:
        """The attempt's row added to ``history`` and its delivery's new state, in the
        caller's session (its delivery, and its partner if the answer may pause or disable
        it, locked and loaded there): nothing is sent to the database. What is to be said of
        it once written, added to ``said``. ``overtaken``: the batch's deliveries a newer
        version replaces."""
        if delivery is None:
            return "dead"
        result, now = attempt.result, attempt.answered_at
        history.append(
            {
                "delivery_id": delivery.id,
                "at": now,
                "status_code": result.status,
                "latency_ms": result.latency_ms,
                "error": result.error,
            }
        )
        asked = pause_asked(self._retry, result.status, result.retry_after, now)
        if asked is not None and partner is not None:
            # The partner's, whatever becomes of this delivery (taken over, superseded):
            # it said so of every request.
            _pause(partner, asked, said)
        if delivery.status != "sending" or delivery.lease_until != attempt.lease_until:
            # Its lease ran out before this was written: another dispatcher has taken the
            # delivery over (or the sweep settled it). The POST is history; the state is the
            # new holder's to write. Written over, a late "delivered" would free the next
            # version while the holder's copy of this one is still on its way.
            said.append(
                functools.partial(
                    log.warning,
                    "attempt recorded after its lease ran out: left to the delivery's holder",
                    extra={"delivery_id": delivery.id, "status_code": result.status},
                )
            )
            return "retry"
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = result.status, result.error
        delivery.lease_until = None
        outcome = classify(result.status)
        said.append(functools.partial(ATTEMPTS.labels(outcome).inc))
        said.append(functools.partial(ATTEMPT_SECONDS.observe, result.latency_ms / 1000))
        said.append(
            functools.partial(
                log.info,
                "delivery attempt",
                extra={
                    "delivery_id": delivery.id,
                    "partner_id": attempt.partner_id,
                    "webhook_id": attempt.webhook_id,
                    "attempt": delivery.attempts,
                    "status_code": result.status,
                    "latency_ms": round(result.latency_ms, 1),
                    "outcome": outcome,
                },
            )
        )
        if outcome == "delivered":
            delivery.status, delivery.delivered_at = "delivered", now
            lag_s = (now - delivery.created_at).total_seconds()
            said.append(functools.partial(LAG_SECONDS.observe, lag_s))
            return outcome
        if outcome == "disable":
            if partner is not None:
                partner.status = "disabled"
                partner.status_reason = "the endpoint answered 410 Gone"
            said.append(_given_up(delivery, "the endpoint answered 410 Gone"))
            return outcome
        if delivery.id in overtaken:
            # A newer version already replaces this one (a Cancel replaces everything):
            # retrying would only hold the newer one back.
            delivery.status = "superseded"
            return "retry"
        when = next_attempt_at(
            self._retry,
            attempts=delivery.attempts,
            now=now,
            deadline=delivery.deadline,
            status=result.status,
            retry_after=result.retry_after,
            rng=self._rng,
            take_down=delivery.event_type in TAKE_DOWNS,
        )
        if when is None:
            said.append(_given_up(delivery, "its retries are spent before its deadline"))
            return "dead"
        delivery.status, delivery.next_attempt_at = "pending", when
        delivery.retry_not_before = throttled_until(
            self._retry, result.status, result.retry_after, now
        )
        return outcome


def _pause(partner: Partner, asked: Pause, said: list[Callable[[], None]]) -> None:
    """The partner paused as it asked (its row locked with the batch's partners); what is to
    be said of it once written, added to ``said``."""
    pause(partner, asked)
    said.append(
        functools.partial(
            log.info,
            "partner paused",
            extra={
                "partner_id": partner.id,
                "status_code": asked.status,
                "paused_until": asked.until.isoformat(),
            },
        )
    )


def _writes_partner(status: int | None) -> bool:
    """Whether an answer may write its partner's row: pause it, or disable it (410 Gone)."""
    return status == 410 or asks_for_pause(status)


@dataclass
class _Applied:
    """One try at writing a batch: each attempt's outcome, and what is said once written."""

    outcomes: list[Outcome] = field(default_factory=list)
    said: list[Callable[[], None]] = field(default_factory=list)


async def _already_written(session: AsyncSession, attempts: Sequence[Attempt]) -> bool:
    """Whether the attempts' rows are stored: a batch is written whole or not at all, and
    an attempt's row is its delivery's at the moment its partner answered."""
    stored = await session.execute(
        select(DeliveryAttempt.delivery_id, DeliveryAttempt.at).where(
            DeliveryAttempt.delivery_id.in_({a.delivery_id for a in attempts})
        )
    )
    written = {(delivery_id, as_utc(at)) for delivery_id, at in stored}
    return any((a.delivery_id, as_utc(a.answered_at)) in written for a in attempts)


def _given_up(delivery: Delivery, why: str) -> Callable[[], None]:
    """Marks the delivery dead; what to say of it once that is written."""
    delivery.status = "dead"  # dead-lettered: visible in the API, replayable
    return functools.partial(
        said_given_up, delivery.id, delivery.partner_id, delivery.event_type, why
    )


def said_given_up(delivery_id: str, partner_id: str, event_type: str, why: str) -> None:
    """A delivery dead-lettered, counted and logged: a take-down given up on is an alert its
    partner may still show."""
    DEAD.labels(event_type).inc()
    log.warning(
        "delivery given up",
        extra={
            "delivery_id": delivery_id,
            "partner_id": partner_id,
            "event_type": event_type,
            "reason": why,
        },
    )


def _fail(waiting: _Waiting, error: BaseException) -> None:
    if not waiting.outcome.done():
        waiting.outcome.set_exception(error)


async def _overtaken(session: AsyncSession, deliveries: Mapping[str, Delivery]) -> set[str]:
    """Of ``deliveries``, those a newer version (planned while they were in flight)
    replaces: one query for the batch."""
    if not deliveries:
        return set()
    found = await session.scalars(
        select(Delivery.id).where(Delivery.id.in_(deliveries), replaced_by_newer())
    )
    return set(found)
