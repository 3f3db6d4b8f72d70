"""A partner that becomes active while alerts are up gets them at once (not at their next
version, which may never come), and their take-down after; one that joins after the
take-down, or elsewhere, gets nothing. Planning and a catch-up never miss each other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.catch_up import bring_forward
from dispatcher.live_alerts import catch_up, remember
from dispatcher.models import Delivery, KnownAlert, Partner
from dispatcher.ordering import earlier_version_owed
from dispatcher.partners import PartnerService
from dispatcher.planning import plan_deliveries
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.production import fresh_database, migrated_sessions
from services.testbed.stack import Stack
from shared.alert_contract import AlertMessage
from shared.alert_example import ALERT_MESSAGE_EXAMPLE
from shared.events import AlertCancelled, AlertIssued, AlertUpdated
from shared.sealing import Sealer
from tests.dispatcher.conftest import NOW, delivery, partner
from tests.flows import an_approved_case, verify_both_signatures
from tests.waiting import eventually

# Around Dakhla, a thousand kilometres from the sample report's Casablanca.
FAR_SOUTH = {
    "type": "Polygon",
    "coordinates": [[[-16.2, 23.4], [-15.6, 23.4], [-15.6, 24.0], [-16.2, 24.0], [-16.2, 23.4]]],
}


async def _register(
    admin: httpx.AsyncClient, endpoint: PartnerEndpoint, **extra: Any
) -> dict[str, Any]:
    response = await admin.post(
        "/v1/partners",
        json={"name": "Joiner", "url": endpoint.url, "verify_token": endpoint.verify_token} | extra,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    registered: dict[str, Any] = response.json()
    return registered


async def test_a_partner_registered_while_an_alert_is_up_gets_it_then_its_take_down(
    stack: Stack,
) -> None:
    async with (
        partner_endpoint() as early,
        partner_endpoint() as joiner,
        partner_endpoint() as elsewhere,
        partner_endpoint() as latecomer,
    ):
        await stack.register_partner(early)
        async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
            report, alert_id = await an_approved_case(police, reviewer)
            [issued] = await early.wait_for(1)  # the dispatcher has this version

            joined = await _register(admin, joiner)
            [caught_up] = await joiner.wait_for(1)
            body = json.loads(caught_up.body)
            assert body["type"] == "alert.issued"
            assert body["alert"] == json.loads(issued.body)["alert"]  # its newest version
            assert caught_up.headers["webhook-id"] != issued.headers["webhook-id"]
            verify_both_signatures(joined["secret"], caught_up)

            # Planned in the registering transaction or not at all: nothing for a partner
            # whose coverage the zone does not meet.
            far = await _register(admin, elsewhere, coverage=FAR_SOUTH)
            assert await stack.deliveries(partner_id=far["id"]) == []

            assert (await police.post(f"{report}/resolve", json={})).status_code == 200
            _, took_down = await joiner.wait_for(2)
            assert json.loads(took_down.body)["type"] == "alert.cancelled"
            assert json.loads(took_down.body)["alert"]["alert_id"] == alert_id

            # Taken down: a partner joining now is not sent the child's alert.
            after = await _register(admin, latecomer)
            assert await stack.deliveries(partner_id=after["id"]) == []
        assert elsewhere.received == [] and latecomer.received == []


async def test_a_partner_verified_again_gets_the_alerts_issued_while_it_was_disabled(
    stack: Stack,
) -> None:
    async with partner_endpoint() as endpoint, partner_endpoint() as witness:
        await stack.register_partner(witness)
        registered = await stack.register_partner(endpoint)
        partner_path = f"/v1/partners/{registered['id']}"
        async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
            assert (await admin.delete(partner_path)).json()["status"] == "disabled"
            _, alert_id = await an_approved_case(police, reviewer)
            await witness.wait_for(1)
            assert await stack.deliveries(partner_id=str(registered["id"])) == []

            assert (await admin.post(f"{partner_path}/verify")).json()["status"] == "active"
            [caught_up] = await endpoint.wait_for(1)
        body = json.loads(caught_up.body)
        assert (body["type"], body["alert"]["alert_id"]) == ("alert.issued", alert_id)


def _event(kind: type[AlertIssued | AlertUpdated | AlertCancelled], sequence: int) -> Any:
    alert = AlertMessage.model_validate(ALERT_MESSAGE_EXAMPLE | {"sequence": sequence})
    return kind(source="test", subject=alert.alert_id, data={"alert": alert})


async def test_an_alert_is_kept_at_its_newest_version_and_a_take_down_is_final(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def kept() -> KnownAlert | None:
        async with sessions() as session:
            return await session.get(KnownAlert, ALERT_MESSAGE_EXAMPLE["alert_id"])

    async def consumed(*events: Any) -> None:
        for event in events:
            async with sessions() as session, session.begin():
                await remember(session, event, "https://tifli.example/cap")

    async def caught_up() -> list[str]:
        async with sessions() as session, session.begin():
            session.add(joiner := partner(f"joiner-{len(await _partner_ids(session))}"))
            return [d.alert_id for d in await catch_up(session, joiner, NOW)]

    await consumed(_event(AlertIssued, 1), _event(AlertUpdated, 3), _event(AlertUpdated, 2))
    row = await kept()
    assert row is not None and row.sequence == 3  # the redelivered version 2 changed nothing
    assert await caught_up() == [ALERT_MESSAGE_EXAMPLE["alert_id"]]

    # Taken down, then a late older version: the take-down stands, without the child's data.
    await consumed(_event(AlertCancelled, 4), _event(AlertUpdated, 3))
    row = await kept()
    assert row is not None and (row.sequence, row.event, row.cap_url) == (4, None, None)
    assert await caught_up() == []


async def _partner_ids(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Partner.id)))


@pytest.fixture
async def pg_sessions(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with migrated_sessions(await fresh_database(postgres_url)) as sessions:
        yield sessions


async def test_a_catch_up_waits_for_a_version_being_planned_and_then_sends_it(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Without the lock the catch-up would not see the uncommitted version, and the planning
    (choosing partners before the activation commits) would not see the partner: neither
    would send it."""
    sessions = pg_sessions
    async with sessions() as session, session.begin():
        session.add(partner("joiner"))
    planning = sessions()
    await planning.begin()
    await remember(planning, _event(AlertIssued, 1), "https://tifli.example/cap")

    async def activate() -> list[str]:
        async with sessions() as session, session.begin():
            joiner = await session.get_one(Partner, "joiner")
            return [d.alert_id for d in await catch_up(session, joiner, NOW)]

    activation = asyncio.create_task(activate())

    await eventually(_advisory_waiters(sessions), lambda waiting: waiting == 1)
    assert not activation.done()
    await planning.commit()
    await planning.close()
    assert await asyncio.wait_for(activation, timeout=15) == [ALERT_MESSAGE_EXAMPLE["alert_id"]]


async def test_a_verification_during_planning_waits_for_it_rather_than_deadlocking(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The verification writes the partner's deliveries; planning supersedes them. Taking
    the planning lock only after its writes, the verification would wait on planning while
    planning waited on its row locks: PostgreSQL would abort one (a deadlock). It takes the
    lock first, before it writes anything."""
    sessions = pg_sessions
    alert_id = ALERT_MESSAGE_EXAMPLE["alert_id"]
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        await session.execute(text("UPDATE partners SET status = 'disabled'"))
        waiting = delivery("p1", alert_id, 2, "pending")  # waits out a back-off, and the partner
        waiting.attempts, waiting.next_attempt_at = 1, NOW + timedelta(minutes=10)
        for made in (delivery("p1", alert_id, 1, "delivered", "alert.issued"), waiting):
            made.id = made.webhook_id = f"v{made.sequence}"  # an alert id is too long for them
            session.add(made)
    planning = sessions()
    await planning.begin()
    newer = _event(AlertUpdated, 3)
    await remember(planning, newer, "https://tifli.example/cap")  # the lock, shared

    verification = asyncio.create_task(_verify(sessions, "p1"))
    await eventually(_advisory_waiters(sessions), lambda waiting: waiting == 1)
    # Planning now supersedes the waiting version: the verification holds no lock on it.
    await plan_deliveries(
        planning, newer, now=NOW, cancel_retry=timedelta(hours=72), public_base_url="x"
    )
    await planning.flush()
    await planning.commit()
    await planning.close()
    assert await asyncio.wait_for(verification, timeout=15) == "active"
    async with sessions() as session:
        statuses = dict((await session.execute(select(Delivery.sequence, Delivery.status))).all())
    assert statuses == {1: "delivered", 2: "superseded", 3: "pending"}


async def test_a_take_down_planned_while_a_claim_takes_an_earlier_version_waits_for_it(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The claim has locked the Alert (it waited out a retry) and marked it as being sent,
    not yet committed, when the child is found. Planning the Cancel read the Alert as waiting
    and superseded it over the claim's "sending": the Cancel went out beside the Alert, maybe
    before it, and the partner kept the alert up. Planning now leaves a row being claimed to
    the claim: the Cancel waits until the Alert's attempt is recorded."""
    sessions = pg_sessions
    alert_id = ALERT_MESSAGE_EXAMPLE["alert_id"]
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        retried = delivery("p1", alert_id, 1, "pending", "alert.issued")
        retried.id = retried.webhook_id = "v1"  # an alert id is too long for them
        retried.attempts = 1
        session.add(retried)
    claim = sessions()
    await claim.begin()
    claimed = await claim.scalar(
        select(Delivery).where(Delivery.id == "v1").with_for_update(skip_locked=True)
    )
    assert claimed is not None
    claimed.status = "sending"
    await claim.flush()

    async def plan_the_cancel() -> bool:
        async with sessions() as session, session.begin():
            cancel = AlertMessage.model_validate(
                ALERT_MESSAGE_EXAMPLE | {"sequence": 2, "msg_type": "Cancel"}
            )
            event = AlertCancelled(source="test", subject=alert_id, data={"alert": cancel})
            [(planned, _)] = await plan_deliveries(
                session, event, now=NOW, cancel_retry=timedelta(hours=72), public_base_url="x"
            )
            await session.flush()
            return bool(await session.scalar(select(earlier_version_owed(planned))))

    planning = asyncio.create_task(plan_the_cancel())
    # Either planning is done, or it waits on the claim's row (as it did, to write over it).
    await eventually(_row_lock_waiters(sessions), lambda waiting: waiting > 0 or planning.done())
    await claim.commit()
    await claim.close()
    assert await asyncio.wait_for(planning, timeout=15) is True  # the Cancel waits its turn
    async with sessions() as session:
        assert (await session.get_one(Delivery, "v1")).status == "sending"


async def test_a_verification_and_an_attempt_recorded_meanwhile_never_deadlock(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The partner's verification locks the versions it decides on; the recorder holds the
    version it records and, the partner having answered, brings the partner's retries
    forward. Waiting for the row the verification holds, it closed a circle of waits, and
    PostgreSQL aborted one of them (a deadlock): it now leaves that row to the verification."""
    sessions = pg_sessions
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        await session.execute(text("UPDATE partners SET status = 'disabled'"))
        retried = delivery("p1", "a1", 2, "pending")  # waits out a back-off
        retried.attempts, retried.next_attempt_at = 1, NOW + timedelta(minutes=10)
        session.add_all(
            [
                delivery("p1", "a1", 1, "delivered", "alert.issued"),
                retried,
                delivery("p1", "a2", 1, "dead", "alert.issued"),
                delivery("p1", "a2", 2, "sending"),  # on its way: being recorded
            ]
        )
    recorder = sessions()
    await recorder.begin()
    await recorder.scalar(select(Delivery).where(Delivery.id == "p1-a2-2").with_for_update())

    # It locks a1's versions first (id order), then waits for the one being recorded.
    verification = asyncio.create_task(_verify(sessions, "p1"))
    await eventually(_row_lock_waiters(sessions), lambda waiting: waiting == 1)
    brought = await asyncio.wait_for(bring_forward(recorder, "p1", NOW), timeout=15)
    assert brought == 0  # the retry the verification holds is its to make due
    await recorder.commit()
    await recorder.close()
    assert await asyncio.wait_for(verification, timeout=15) == "active"


async def _verify(sessions: async_sessionmaker[AsyncSession], partner_id: str) -> str:
    """The partner's handshake passed (it was away): its status after."""
    async with sessions() as session, session.begin():
        service = PartnerService(session, NOW, Sealer(Sealer.new_key()))
        out = await service.record_handshake(partner_id, None, cancel_retry=timedelta(hours=72))
        return out.status


def _row_lock_waiters(sessions: async_sessionmaker[AsyncSession]) -> Any:
    return _lock_waiters(sessions, "transactionid")


def _advisory_waiters(sessions: async_sessionmaker[AsyncSession]) -> Any:
    return _lock_waiters(sessions, "advisory")


def _lock_waiters(sessions: async_sessionmaker[AsyncSession], kind: str) -> Any:
    """How many transactions wait for a lock of ``kind`` (``pg_locks.locktype``)."""

    async def count() -> int:
        async with sessions() as session:
            query = "SELECT count(*) FROM pg_locks WHERE locktype = :kind AND NOT granted"
            return int((await session.execute(text(query), {"kind": kind})).scalar_one())

    return count
