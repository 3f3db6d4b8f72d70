"""Attempts are recorded in batches: outcomes that arrive while one is being written go
together in the next transaction, each with its own outcome, on both databases."""

from __future__ import annotations

import asyncio
import logging
import random
from asyncio import FIRST_COMPLETED
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Connection, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dispatcher.attempt_records import Attempt, AttemptRecorder
from dispatcher.models import Delivery, DeliveryAttempt, Partner
from dispatcher.retry import RetryPolicy
from dispatcher.sender import SendResult
from services.testbed.production import fresh_database, migrated_sessions
from services.testbed.stack import FakeClock
from tests.dispatcher.conftest import NOW, delivery, partner
from tests.lock_waits import blocked_on_a_lock
from tests.waiting import eventually

SENT = NOW + timedelta(seconds=3)  # when the partners answered
WRITTEN = SENT + timedelta(seconds=1)  # when the batch is written: not the attempts' time


def _recorder(
    sessions: async_sessionmaker[AsyncSession],
    woken: list[int],
    lease: timedelta = timedelta(minutes=2),
) -> AttemptRecorder:
    return AttemptRecorder(
        sessions,
        FakeClock(WRITTEN),
        RetryPolicy(schedule_s=(10.0, 60.0)),
        lease,
        lambda: woken.append(1),
        random.Random(7),
    )


def _commits(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    counted: list[int] = []

    @event.listens_for(engine.sync_engine, "commit")
    def _on_commit(_connection: Any) -> None:
        counted.append(1)

    return counted


def _answered(status: int) -> SendResult:
    return SendResult(status=status, latency_ms=4.0, error=None, retry_after=None)


async def test_outcomes_arriving_together_share_one_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rows = [delivery("p1", f"a{n}", 1, "sending", "alert.issued") for n in range(30)]
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        session.add_all(rows)
    commits, woken = _commits(sessions), list[int]()
    recorder = _recorder(sessions, woken)

    outcomes = await asyncio.gather(
        *(
            recorder.record(Attempt(d.id, "p1", d.webhook_id, _answered(200), SENT, None))
            for d in rows
        )
    )

    assert outcomes == ["delivered"] * 30
    # The first is written alone, at once; the 29 that came while it was written, together.
    assert len(commits) == 2
    async with sessions() as session:
        stored = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
        assert {(d.status, d.attempts, d.delivered_at) for d in stored} == {("delivered", 1, SENT)}
        per_delivery = await session.execute(
            select(DeliveryAttempt.delivery_id, func.count()).group_by(DeliveryAttempt.delivery_id)
        )
        assert dict(per_delivery.all()) == {d.id: 1 for d in rows}


async def test_each_attempt_of_a_batch_gets_its_own_outcome(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ok, failing = delivery("p1", "a1", 1, "sending"), delivery("p1", "a2", 1, "sending")
    gone = delivery("p2", "a3", 1, "sending")
    waiting = delivery("p1", "a4", 1, "pending")
    waiting.attempts, waiting.next_attempt_at = 2, SENT + timedelta(minutes=5)
    async with sessions() as session, session.begin():
        session.add_all([partner("p1"), partner("p2")])
        await session.flush()
        session.add_all([ok, failing, gone, waiting])
    woken: list[int] = []
    recorder = _recorder(sessions, woken)
    attempts = [
        Attempt(ok.id, "p1", ok.webhook_id, _answered(200), SENT, None),
        Attempt(failing.id, "p1", failing.webhook_id, _answered(500), SENT, None),
        Attempt(gone.id, "p2", gone.webhook_id, _answered(410), SENT, None),
        Attempt("no-such-delivery", "p2", "msg_none", _answered(200), SENT, None),
    ]

    outcomes = await asyncio.gather(*(recorder.record(a) for a in attempts))

    assert outcomes == ["delivered", "retry", "disable", "dead"]
    async with sessions() as session:
        by_id = {d.id: d for d in await session.scalars(select(Delivery))}
        assert by_id[ok.id].status == "delivered"
        assert by_id[failing.id].status == "pending"
        assert by_id[failing.id].next_attempt_at > SENT  # backed off
        assert by_id[gone.id].status == "dead"
        assert (await session.get(Partner, "p2")).status == "disabled"  # type: ignore[union-attr]
        # p1 answered: its delivery waiting out a back-off is due now, and the loop is woken.
        assert by_id[waiting.id].next_attempt_at == WRITTEN
        assert woken


async def test_a_batch_of_failed_attempts_takes_as_many_statements_however_large(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A partner failing (500, refused) in a burst fills batches with failures. Each asked in
    its turn whether a newer version replaces it, and that query flushed the attempt before
    it: three round trips per attempt, the batch's rows and its partners' locked all along,
    and every other outcome queued behind it (a batch of 68 took 3.4 s to write)."""
    async with sessions() as session, session.begin():
        session.add(partner("p1"))

    async def statements_for(failed: int) -> int:
        rows = [
            delivery("p1", f"a{failed}-{n}", 1, "sending", "alert.issued") for n in range(failed)
        ]
        async with sessions() as session, session.begin():
            session.add_all(rows)
        recorder = _recorder(sessions, [])
        engine = sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        counted: list[str] = []

        def _on_statement(*args: Any) -> None:
            counted.append(args[2])

        event.listen(engine.sync_engine, "before_cursor_execute", _on_statement)
        try:
            outcomes = await asyncio.gather(
                *(
                    recorder.record(Attempt(d.id, "p1", d.webhook_id, _answered(500), SENT, None))
                    for d in rows
                )
            )
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", _on_statement)
        assert outcomes == ["retry"] * failed
        return len(counted)

    assert await statements_for(30) == await statements_for(5)
    async with sessions() as session:
        stored = (await session.scalars(select(Delivery))).all()
        assert {(d.status, d.attempts) for d in stored} == {("pending", 1)}
        assert await session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 35


async def test_a_partner_paused_while_an_alert_to_it_is_being_planned_waits_for_nothing(
    postgres_url: str,
) -> None:
    """The batch locked the partners its answers pause FOR UPDATE, the lock that a foreign
    key's check (FOR KEY SHARE) waits for: a delivery being planned for the partner held the
    batch back until its planning committed, every outcome after it queued, and a planning
    meeting a batch waited for it in turn (a partner throttling at 4 requests a second, in
    a burst: 12 to 26 s of planning spent waiting). Pausing writes none of its keys."""
    async with migrated_sessions(await fresh_database(postgres_url)) as sessions:
        sent = delivery("p1", "a1", 1, "sending", "alert.issued")
        async with sessions() as session, session.begin():
            session.add(partner("p1"))
            await session.flush()
            session.add(sent)
        throttled = SendResult(status=429, latency_ms=4.0, error=None, retry_after="30")
        attempt = Attempt(sent.id, "p1", sent.webhook_id, throttled, SENT, None)

        async with sessions() as planning, planning.begin():
            planning.add(delivery("p1", "a2", 1, "pending", "alert.issued"))
            await planning.flush()  # its key check holds the partner's row until the commit
            recording = asyncio.create_task(_recorder(sessions, []).record(attempt))
            blocked = asyncio.create_task(
                eventually(lambda: blocked_on_a_lock(sessions), lambda n: n >= 1)
            )
            done, _ = await asyncio.wait({recording, blocked}, return_when=FIRST_COMPLETED)
            blocked.cancel()
        # The planning commits here: a recorder waiting for it goes on.

        assert await recording == "retry"
        assert recording in done and blocked not in done
        async with sessions() as session:
            stored = await session.get_one(Partner, "p1")
            assert stored.throttled_until == SENT + timedelta(seconds=30)


async def test_a_partner_back_while_an_alert_to_it_is_being_planned_is_not_paused_still(
    postgres_url: str,
) -> None:
    """A 2xx ends the pause a 503 asked for, but the row is left to any transaction that
    holds it; a delivery being planned for the partner (its foreign key's check) was one, so
    the partner stayed paused until its time though it answered: in a burst, a planning is
    nearly always under way."""
    async with migrated_sessions(await fresh_database(postgres_url)) as sessions:
        sent = delivery("p1", "a1", 1, "sending", "alert.issued")
        down = partner("p1")
        down.unavailable_until = SENT + timedelta(minutes=5)
        async with sessions() as session, session.begin():
            session.add(down)
            await session.flush()
            session.add(sent)
        attempt = Attempt(sent.id, "p1", sent.webhook_id, _answered(200), SENT, None)

        async with sessions() as planning, planning.begin():
            planning.add(delivery("p1", "a2", 1, "pending", "alert.issued"))
            await planning.flush()  # its key check holds the partner's row until the commit
            assert await _recorder(sessions, []).record(attempt) == "delivered"

        async with sessions() as session:
            assert (await session.get_one(Partner, "p1")).unavailable_until is None


async def test_an_attempt_whose_delivery_was_taken_over_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Its lease ran out (a slow partner, a stalled dispatcher) and another dispatcher claimed
    the delivery again. The first one's late "delivered" freed the next version (a Cancel)
    while the second copy of this one was still on its way, so it could arrive after it."""
    taken_over = delivery("p1", "a1", 1, "sending", "alert.issued")
    taken_over.lease_until = WRITTEN + timedelta(minutes=2)  # the new holder's lease
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        session.add(taken_over)
    recorder = _recorder(sessions, [])
    first_lease = SENT - timedelta(seconds=30)
    late = Attempt(taken_over.id, "p1", taken_over.webhook_id, _answered(200), SENT, first_lease)

    assert await recorder.record(late) == "retry"

    async with sessions() as session:
        stored = await session.get_one(Delivery, taken_over.id)
        assert (stored.status, stored.attempts, stored.lease_until) == (
            "sending",
            0,
            taken_over.lease_until,
        )
        history = await session.scalar(select(func.count()).select_from(DeliveryAttempt))
        assert history == 1  # the POST was made: it stays in the delivery's history


async def test_a_take_down_given_up_on_is_counted_and_said(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """Its retries spent before its deadline, a Cancel is dead: its partner may still show the
    alert. It was logged and counted as one more retry, and nothing said it died."""
    cancel = await _a_cancel_out_of_time(sessions)
    before = _dead_count("alert.cancelled")
    attempt = Attempt(cancel.id, "p1", cancel.webhook_id, _answered(500), SENT, None)

    with caplog.at_level(logging.WARNING, logger="dispatcher.attempt_records"):
        assert await _recorder(sessions, []).record(attempt) == "dead"

    assert _dead_count("alert.cancelled") == before + 1
    [said] = [r for r in caplog.records if r.getMessage() == "delivery given up"]
    assert (said.delivery_id, said.event_type) == (cancel.id, "alert.cancelled")  # type: ignore[attr-defined]


@pytest.mark.parametrize("database", ["refused once", "answer lost once", "answer lost, then away"])
async def test_an_outcome_written_again_after_a_database_blip_is_said_once(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture, database: str
) -> None:
    """The first commit fails as a restarting database's would: refused, or made and its
    answer lost with the connection; then the database is back, or stays away past the time
    the recorder waits (half the lease). A Cancel given up on is stored once and said once:
    counted twice, an operator's alert rule fires on nothing; not at all, on a take-down
    that never went out."""
    cancel = await _a_cancel_out_of_time(sessions)
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    commits: list[int] = []

    def _fail(connection: Connection) -> None:
        commits.append(1)
        if len(commits) > 1 and database != "answer lost, then away":
            return
        if len(commits) == 1 and database.startswith("answer lost"):
            connection.connection.commit()  # made: the transaction is stored
        raise OperationalError("COMMIT", {}, ConnectionError("database restarting"))

    event.listen(engine.sync_engine, "commit", _fail)
    before = _dead_count("alert.cancelled")
    attempt = Attempt(cancel.id, "p1", cancel.webhook_id, _answered(500), SENT, None)
    # Half of it is how long the recorder waits: the database back at the second try, any
    # lease does; away for good, a short one, still long enough for a second try on a busy
    # machine, where one try can take some tenths of a second.
    lease = timedelta(seconds=4) if database == "answer lost, then away" else timedelta(minutes=2)
    recorder = _recorder(sessions, [], lease=lease)
    try:
        with caplog.at_level(logging.INFO, logger="dispatcher.attempt_records"):
            if database == "answer lost, then away":
                with pytest.raises(OperationalError):
                    await recorder.record(attempt)
            else:
                assert await recorder.record(attempt) == "dead"
    finally:
        event.remove(engine.sync_engine, "commit", _fail)

    assert len(commits) > 1  # tried again
    async with sessions() as session:
        stored = await session.get_one(Delivery, cancel.id)
        assert (stored.status, stored.attempts) == ("dead", 1)
        history = await session.scalar(select(func.count()).select_from(DeliveryAttempt))
        assert history == 1
    assert _dead_count("alert.cancelled") == before + 1
    said = [r.getMessage() for r in caplog.records]
    assert (said.count("delivery given up"), said.count("delivery attempt")) == (1, 1)
    assert not [
        r for r in caplog.records if r.levelno >= logging.WARNING and "lease" in r.getMessage()
    ]


async def _a_cancel_out_of_time(sessions: async_sessionmaker[AsyncSession]) -> Delivery:
    """A Cancel being sent whose next retry (10 s on) would be past its deadline."""
    cancel = delivery("p1", "a1", 2, "sending", "alert.cancelled")
    cancel.deadline = SENT + timedelta(seconds=5)
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        session.add(cancel)
    return cancel


def _dead_count(event_type: str) -> float:
    counted = REGISTRY.get_sample_value("tifli_deliveries_dead_total", {"event_type": event_type})
    return counted or 0.0
