"""The delivery loop: claim due deliveries, POST them signed, record every attempt.

Claims are leases: a delivery is marked ``sending`` until ``lease_until`` in a short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several dispatchers share the work
and never send one delivery twice at once), the POST happens outside any transaction, and
the outcome is recorded in another (``attempt_records``: several outcomes in one under
load). A dispatcher that dies mid-send leaves a lease that expires, and the delivery is
claimed again — with the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.attempt_records import Attempt, AttemptRecorder, said_given_up
from dispatcher.catch_up import as_the_alert_where_unseen
from dispatcher.metrics import PARTNER_PAUSED_UNTIL, PARTNER_WAITING, TAKE_DOWN_WAITING
from dispatcher.models import Delivery, Partner
from dispatcher.ordering import (
    OWED,
    TAKE_DOWNS,
    earlier_version_owed,
    replaced_by_newer_than,
    replaced_in_flight,
    replaced_while_waiting,
)
from dispatcher.partner_secrets import signing_secrets
from dispatcher.pauses import not_paused, pause_of
from dispatcher.retry import Outcome, RetryPolicy
from dispatcher.row_locks import free_rows
from dispatcher.sender import post_webhook
from dispatcher.signing import signature_headers
from shared.clock import Clock, as_utc
from shared.sealing import SealedValueError, Sealer
from shared.supervision import Supervisor
from shared.transient_errors import describe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    retry: RetryPolicy
    partner_concurrency: int
    poll_interval_s: float
    lease: timedelta
    attempt_timeout_s: float = 10.0
    batch_size: int = 100


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    webhook_id: str
    partner_id: str
    url: str
    secrets: list[str]
    body: bytes
    lease_until: datetime | None  # this claim's: its attempt is written while it holds


def _claimed(delivery: Delivery, partner: Partner, secrets: list[str]) -> Claimed:
    return Claimed(
        delivery.id,
        delivery.webhook_id,
        partner.id,
        partner.url,
        secrets,
        delivery.payload.encode(),
        delivery.lease_until,
    )


# A delivery whose partner's secret this dispatcher cannot open is looked at again after
# this: soon after the dispatcher restarts with the key, without spinning until then.
_UNOPENED_SECRET_WAIT = timedelta(seconds=30)
UNOPENED_SECRET = (
    "the partner's signing secret does not open with this dispatcher's TIFLI_DATA_KEY: "
    "give it the key the secret was sealed with"
)


def _said_unopened(delivery: Delivery, partner: Partner) -> None:
    # Collapsed: a partner with a backlog would say it for each delivery, every wait.
    log.error(
        "delivery held: its partner's signing secret does not open",
        extra={
            "delivery_id": delivery.id,
            "partner_id": partner.id,
            "event_type": delivery.event_type,
            "collapse": True,
        },
    )


_TAKE_DOWNS_FIRST = case((Delivery.event_type.in_(sorted(TAKE_DOWNS)), 0), else_=1)


def _claimable(full_partners: list[str], now: datetime) -> list[ColumnElement[bool]]:
    """Conditions (besides time and status) for a delivery any worker may take now."""
    # Per alert and partner, in sequence order: nothing overtakes a version still owed. A
    # version a newer one replaces is superseded at the next sweep, never sent.
    conditions = [
        Partner.status == "active",
        not_paused(now),  # its Retry-After holds every delivery of the partner (``pauses``)
        ~earlier_version_owed(Delivery),
        ~replaced_while_waiting(),
    ]
    if full_partners:
        conditions.append(Delivery.partner_id.not_in(full_partners))
    return conditions


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        config: WorkerConfig,
        clock: Clock,
        sealer: Sealer,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._sealer = sealer
        self._client = client
        self._config = config
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_expiry_sweep = 0.0
        self._saturated = False  # a claim left due work behind for a busy partner
        self._attempts = AttemptRecorder(
            sessions, clock, config.retry, config.lease, self._wake.set, self._rng
        )

    def wake(self) -> None:
        """Starts the next pass now instead of at the next poll: a delivery is due."""
        self._wake.set()

    def stop(self) -> None:
        """Ends the loop after the pass in hand."""
        self._stopping.set()
        self._wake.set()

    async def run(self, supervisor: Supervisor) -> None:
        """Passes until stopped (an error in one never ends the loop), then a drain."""
        await supervisor.supervise("deliveries", self._pass, self._stopping)
        await self.drain()

    async def drain(self) -> None:
        """Until every POST in flight has its outcome recorded — including those that event
        handlers dispatched while the loop was already stopping."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _pass(self) -> None:
        self._wake.clear()
        if time.monotonic() - self._last_expiry_sweep >= self._config.poll_interval_s:
            await self._expire_overdue()
            self._last_expiry_sweep = time.monotonic()
        claimed = await self._claim()
        self.dispatch(claimed)
        if len(claimed) >= self._config.batch_size:
            return  # more may be due: no nap
        # The time-out first: if asking the database for it fails, the pass fails before a
        # waiter exists (one created first would never be awaited).
        idle_s = await self._idle_time()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), idle_s)

    def dispatch(self, claimed: list[Claimed]) -> None:
        """Send claimed deliveries now, each in its own task (each holds the partner's slot
        its claim took)."""
        for item in claimed:
            task = asyncio.create_task(self._deliver(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def give_back(self, claimed: list[Claimed]) -> None:
        """The partners' slots of deliveries whose claim was not committed: never sent."""
        self._free_slots(item.partner_id for item in claimed)

    def _take_slot(self, partner_id: str) -> bool:
        """One of the partner's slots for a delivery being claimed, if one is free.

        Taken at the claim, not when the POST starts: between the two lies the claim's
        commit, while other claims run (the event handlers of other partitions, the loop's
        pass). Counted only at the POST, each of them found the same slot free, and a slow
        partner had more POSTs at once than ``partner_concurrency`` (7 for 4 in a burst)."""
        if self._in_flight[partner_id] >= self._config.partner_concurrency:
            return False
        self._in_flight[partner_id] += 1
        return True

    def _free_slots(self, partner_ids: Iterable[str]) -> None:
        for partner_id in partner_ids:
            self._in_flight[partner_id] -= 1

    async def claim_fresh(
        self, session: AsyncSession, planned: list[tuple[Delivery, Partner]], now: datetime
    ) -> list[Claimed]:
        """Claim deliveries just planned, inside the planning transaction: the common case
        (a new version, a partner with room) goes out without another round trip through
        the table. What cannot go now stays pending for the loop."""
        taken: list[tuple[Delivery, Partner]] = []
        try:
            for delivery, partner in planned:
                if partner.status != "active":
                    continue  # waits until the partner is active again (``plan_deliveries``)
                if pause_of(partner, now) is not None:
                    continue  # waits until the partner's Retry-After has passed
                if not self._take_slot(partner.id):
                    self._saturated = True
                    continue
                taken.append((delivery, partner))
                if delivery.sequence > 1 and await session.scalar(
                    select(or_(earlier_version_owed(delivery), replaced_by_newer_than(delivery)))
                ):
                    # An earlier version is still owed (order first), or a newer one
                    # replaces this one: the loop would not claim it either
                    # (``_claimable``), and its sweep supersedes it.
                    taken.pop()
                    self._free_slots([partner.id])
            return await self._taken(session, taken, now)
        except BaseException:
            self._free_slots(partner.id for _, partner in taken)
            raise

    async def _taken(
        self, session: AsyncSession, taken: list[tuple[Delivery, Partner]], now: datetime
    ) -> list[Claimed]:
        """The deliveries a claim took, leased to this worker and ready to send (each as
        what the partner can read: ``as_the_alert_where_unseen``). ``taken`` is left holding
        those claimed: the caller frees their slots if the claim is not committed."""
        await as_the_alert_where_unseen(session, [delivery for delivery, _ in taken])
        claimed = []
        held: list[tuple[Delivery, Partner]] = []
        for delivery, partner in taken:
            try:
                secrets = signing_secrets(partner, now, self._sealer)
            except SealedValueError:
                # Sealed under a data key this dispatcher lacks (a rotation rolled out to
                # intake first): raised, it failed the whole claim, and every other
                # partner's alerts and take-downs with it, event after event. This one
                # waits, said, for a dispatcher that holds the key, or its deadline.
                held.append((delivery, partner))
                delivery.next_attempt_at = now + _UNOPENED_SECRET_WAIT
                delivery.last_error = UNOPENED_SECRET
                _said_unopened(delivery, partner)
                continue
            delivery.status = "sending"
            delivery.lease_until = now + self._config.lease
            claimed.append(_claimed(delivery, partner, secrets))
        # Their slots freed once, here: left in ``taken``, a claim that then fails to commit
        # would free them again, and the partner be allowed one POST more for good.
        self._free_slots(partner.id for _, partner in held)
        taken[:] = [pair for pair in taken if pair not in held]
        return claimed

    async def _idle_time(self) -> float:
        """Sleep until the next delivery is due, at most one poll interval."""
        full = [p for p, n in self._in_flight.items() if n >= self._config.partner_concurrency]
        async with self._sessions() as session:
            # Only what a claim could take: a delivery held back (disabled or paused partner,
            # an earlier version still owed, a busy partner) must not make the loop spin. A
            # pause that ends is seen at the next poll.
            due = await session.scalar(
                select(Delivery.next_attempt_at)
                .join(Partner, Partner.id == Delivery.partner_id)
                .where(Delivery.status == "pending", *_claimable(full, self._clock.now()))
                .order_by(Delivery.next_attempt_at)
                .limit(1)
            )
        if due is None:
            return self._config.poll_interval_s
        wait = (due - self._clock.now()).total_seconds()
        return min(max(wait, 0.005), self._config.poll_interval_s)

    async def _expire_overdue(self) -> None:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # A row another transaction holds (being claimed, recorded) is left to it, and
            # to the next sweep (``row_locks``).
            await session.execute(
                update(Delivery)
                .where(free_rows(or_(replaced_in_flight(now), replaced_while_waiting())))
                .values(status="superseded", lease_until=None)
                .execution_options(synchronize_session=False)
            )
            expired = await session.execute(
                update(Delivery)
                .where(
                    free_rows(
                        or_(
                            Delivery.status == "pending",
                            and_(Delivery.status == "sending", Delivery.lease_until < now),
                        ),
                        Delivery.deadline < now,
                    )
                )
                .values(status="dead", last_error="not delivered before its deadline")
                .returning(Delivery.id, Delivery.partner_id, Delivery.event_type)
                .execution_options(synchronize_session=False)
            )
            # Said before the commit: if it fails, the next sweep says them again; if it went
            # through unanswered, the next finds them dead, and a take-down given up on
            # would go unsaid.
            for delivery_id, partner_id, event_type in expired:
                said_given_up(delivery_id, partner_id, event_type, "its deadline passed")
            oldest = await session.scalar(
                select(func.min(Delivery.created_at)).where(
                    Delivery.status.in_(OWED), Delivery.event_type.in_(sorted(TAKE_DOWNS))
                )
            )
            owed = (
                await session.execute(
                    select(Partner, func.count(Delivery.id))
                    .outerjoin(
                        Delivery,
                        and_(Delivery.partner_id == Partner.id, Delivery.status.in_(OWED)),
                    )
                    .group_by(Partner.id)
                )
            ).all()
        waited = (now - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
        TAKE_DOWN_WAITING.set(max(waited, 0.0))
        # Every partner, those owed nothing too: a backlog gone reads 0, not its last count.
        for partner, count in owed:
            PARTNER_WAITING.labels(partner.id).set(count)
            paused = pause_of(partner, now)
            PARTNER_PAUSED_UNTIL.labels(partner.id).set(paused.until.timestamp() if paused else 0)

    async def _claim(self) -> list[Claimed]:
        now = self._clock.now()
        full = [p for p, n in self._in_flight.items() if n >= self._config.partner_concurrency]
        query = (
            select(Delivery, Partner)
            .join(Partner, Partner.id == Delivery.partner_id)
            .where(
                Delivery.next_attempt_at <= now,
                Delivery.deadline > now,  # never past the deadline, even after a crash
                or_(
                    Delivery.status == "pending",
                    and_(Delivery.status == "sending", Delivery.lease_until < now),
                ),
                ~replaced_in_flight(now),  # superseded at the next sweep, never sent again
                *_claimable(full, now),
            )
            # Take-downs first: a partner that is slow, or catching up, takes a found child's
            # alert down at its next free slot, not once every alert queued ahead of it has
            # gone (over a minute in a burst). An alert's own versions still go in order: a
            # take-down waits while one before it is on its way (``earlier_version_owed``).
            .order_by(_TAKE_DOWNS_FIRST, Delivery.next_attempt_at)
            .limit(self._config.batch_size)
            .with_for_update(skip_locked=True, of=Delivery)
        )
        taken: list[tuple[Delivery, Partner]] = []
        try:
            async with self._sessions() as session, session.begin():
                for delivery, partner in (await session.execute(query)).all():
                    if not self._take_slot(partner.id):
                        self._saturated = True
                        continue  # this partner is busy: its others wait, other partners do not
                    taken.append((delivery, partner))
                return await self._taken(session, taken, now)
        except BaseException:
            self._free_slots(partner.id for _, partner in taken)
            raise

    async def _deliver(self, item: Claimed) -> None:
        outcome: Outcome = "retry"
        try:
            try:
                timestamp = int(time.time())
                headers = signature_headers(item.secrets, item.webhook_id, timestamp, item.body)
                result = await post_webhook(
                    self._client,
                    item.url,
                    item.body,
                    headers,
                    within_s=self._config.attempt_timeout_s,
                )
            finally:
                # The partner is free once it has answered: its next POST need not wait
                # for this outcome to be written (nor for the batch it goes in). An alert's
                # next version still waits: it is claimed only once this one is recorded.
                self._in_flight[item.partner_id] -= 1
            answered = Attempt(
                item.delivery_id,
                item.partner_id,
                item.webhook_id,
                result,
                self._clock.now(),
                item.lease_until,
            )
            outcome = await self._attempts.record(answered)
        except Exception as exc:
            # Not written: the lease expires and another pass retries it; nothing is lost.
            # (Written after all, its answer lost: the recorder said what it found.)
            log.warning("delivery failed to record", extra=describe(exc))
        finally:
            # The loop only needs to look again if this left work behind: a retry to
            # schedule, or deliveries that waited for this partner's capacity.
            if outcome != "delivered" or self._saturated:
                self._saturated = False
                self._wake.set()
