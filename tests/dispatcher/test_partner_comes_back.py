"""A partner away (disabled, failing) when an alert changes still ends with what the alert
became: its take-down is planned while it is away and goes out when it is back; a replay can
never send it a version of an alert already taken down; a test event it accepts releases
what waited out a back-off."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.catch_up import as_the_alert_where_unseen, bring_forward, owed_again
from dispatcher.delivery_ops import DeliveryService
from dispatcher.models import Delivery
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.problems import Problem
from tests.dispatcher.conftest import NOW, delivery, partner
from tests.flows import an_approved_case, verify_both_signatures
from tests.waiting import eventually


async def test_a_partner_disabled_when_the_child_is_found_gets_the_cancel_once_back(
    stack: Stack,
) -> None:
    async with partner_endpoint() as endpoint:
        registered = await stack.register_partner(endpoint)
        partner_path = f"/v1/partners/{registered['id']}"
        async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
            report, alert_id = await an_approved_case(police, reviewer)
            [issued] = await endpoint.wait_for(1)
            assert json.loads(issued.body)["type"] == "alert.issued"

            assert (await admin.delete(partner_path)).json()["status"] == "disabled"
            assert (await police.post(f"{report}/resolve", json={})).status_code == 200
            # Planned while the partner is away, and visibly waiting for it.
            [cancel] = await eventually(
                lambda: stack.deliveries(alert_id=alert_id, status="pending"),
                lambda items: len(items) == 1,
            )
            assert cancel["event_type"] == "alert.cancelled"
            assert len(endpoint.received) == 1
            # An alert the partner may still show: what an operator alerts on.
            await eventually(_take_down_waiting, lambda age: age > 0)

            # The Alert, delivered before, cannot be replayed over the Cancel.
            # Its outcome recorded (the partner had it before the dispatcher wrote so).
            [delivered] = await eventually(
                lambda: stack.deliveries(alert_id=alert_id, status="delivered"),
                lambda items: len(items) == 1,
            )
            replayed = await admin.post(f"/v1/deliveries/{delivered['id']}/replay")
            assert replayed.status_code == 409, replayed.text

            assert (await admin.post(f"{partner_path}/verify")).json()["status"] == "active"
            _, took_down = await endpoint.wait_for(2)
        body = json.loads(took_down.body)
        assert body["type"] == "alert.cancelled"
        assert body["alert"]["alert_id"] == alert_id
        assert took_down.headers["webhook-id"] == cancel["webhook_id"]
        await eventually(_take_down_waiting, lambda age: age == 0)  # none owed any more


async def _take_down_waiting() -> float:
    """The oldest take-down still owed, as the dispatcher's sweep last found it (seconds)."""
    return REGISTRY.get_sample_value("tifli_take_down_oldest_waiting_age_seconds") or 0.0


async def test_a_partner_that_answered_410_to_the_cancel_gets_it_once_verified_again(
    stack: Stack,
) -> None:
    async with partner_endpoint() as endpoint:
        registered = await stack.register_partner(endpoint)
        partner_path = f"/v1/partners/{registered['id']}"
        async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
            report, alert_id = await an_approved_case(police, reviewer)
            await endpoint.wait_for(1)

            endpoint.failing_with = 410  # the endpoint is gone when the child is found
            assert (await police.post(f"{report}/resolve", json={})).status_code == 200
            [dead] = await eventually(
                lambda: stack.deliveries(alert_id=alert_id, status="dead"),
                lambda items: len(items) == 1,
            )
            assert dead["event_type"] == "alert.cancelled"
            assert (await admin.get(partner_path)).json()["status"] == "disabled"

            endpoint.failing_with = None  # back, and verified again by the operator
            assert (await admin.post(f"{partner_path}/verify")).json()["status"] == "active"
            *_, took_down = await endpoint.wait_for(3)
            done = await eventually(
                lambda: stack.deliveries(alert_id=alert_id, status="delivered"),
                lambda items: "alert.cancelled" in [i["event_type"] for i in items],
            )
            [delivered] = [d for d in done if d["event_type"] == "alert.cancelled"]
        assert json.loads(took_down.body)["type"] == "alert.cancelled"
        assert took_down.headers["webhook-id"] == dead["webhook_id"] == delivered["webhook_id"]


async def test_a_partner_whose_alert_died_gets_the_next_version_as_the_alert(
    tmp_path: Path,
) -> None:
    """The partner failed through the Alert's every retry; once it answers again, the next
    version (a trusted sighting's Update) reaches it as ``alert.issued``, not as an Update of
    an alert it never had. Its expiry, dead too, may be replayed: a take-down."""
    # One attempt only: the retry after it would land past the alert's end.
    settings = embedded_settings(tmp_path, webhook_retry_schedule_s=(0.0, 10_000_000.0))
    stack, server = await start_stack(settings)
    try:
        async with partner_endpoint() as endpoint:
            registered = await stack.register_partner(endpoint)
            endpoint.failing_with = 500
            async with stack.clients("submitter", "reviewer") as (police, reviewer):
                report, alert_id = await an_approved_case(police, reviewer)
                [dead] = await eventually(
                    lambda: stack.deliveries(alert_id=alert_id, status="dead"),
                    lambda items: len(items) == 1,
                )
                assert dead["event_type"] == "alert.issued"
                endpoint.failing_with = None
                at = datetime.now(UTC).isoformat()
                sighting = {"place_name": "Rabat", "at": at, "trusted": True}
                assert (await police.post(f"{report}/sightings", json=sighting)).status_code == 201
                _, reached = await endpoint.wait_for(2)
            body = json.loads(reached.body)
            assert body["type"] == "alert.issued"
            assert (body["alert"]["sequence"], body["alert"]["msg_type"]) == (2, "Update")
            verify_both_signatures(str(registered["secret"]), reached)
            [superseded] = await stack.deliveries(alert_id=alert_id, status="superseded")
            assert superseded["id"] == dead["id"]  # no longer a failure to replay
    finally:
        await server.__aexit__(None, None, None)


async def test_an_update_queued_behind_an_alert_that_then_dies_goes_as_the_alert(
    tmp_path: Path,
) -> None:
    """The Update is planned while the Alert still waits out a retry; then the Alert's last
    retry fails. Whichever comes first, the partner's first message is the alert itself."""
    settings = embedded_settings(tmp_path, webhook_retry_schedule_s=(0.0, 3.0, 10_000_000.0))
    stack, server = await start_stack(settings)
    try:
        async with partner_endpoint() as endpoint:
            await stack.register_partner(endpoint)
            endpoint.script = [500, 500]  # the Alert's two attempts; then the partner is back
            async with stack.clients("submitter", "reviewer") as (police, reviewer):
                report, alert_id = await an_approved_case(police, reviewer)
                await endpoint.wait_for(1)
                at = datetime.now(UTC).isoformat()
                sighting = {"place_name": "Rabat", "at": at, "trusted": True}
                assert (await police.post(f"{report}/sightings", json=sighting)).status_code == 201
                *_, reached = await endpoint.wait_for(3)
            body = json.loads(reached.body)
            assert (body["type"], body["alert"]["sequence"]) == ("alert.issued", 2)
            # The dead Alert no longer waits on the partner: superseded, not one to replay.
            [gone] = await stack.deliveries(alert_id=alert_id, status="superseded")
            assert gone["sequence"] == 1
            assert await stack.deliveries(alert_id=alert_id, status="dead") == []
    finally:
        await server.__aexit__(None, None, None)


@pytest.mark.parametrize(
    ("before", "attempts", "sent_as"),
    [
        ([("dead", "alert.issued")], 0, "alert.issued"),  # the Alert died on the way
        ([("superseded", "alert.issued")], 0, "alert.issued"),
        ([("delivered", "alert.issued"), ("dead", "alert.updated")], 0, "alert.updated"),
        # Taken down, then brought back by a renewal that died: the partner shows nothing.
        ([("delivered", "alert.issued"), ("delivered", "alert.expired")], 0, "alert.issued"),
        ([("dead", "alert.issued")], 1, "alert.updated"),  # sent before: the same bytes again
    ],
)
async def test_an_update_goes_as_the_alert_to_a_partner_that_holds_none_of_it(
    sessions: async_sessionmaker[AsyncSession],
    before: list[tuple[str, str]],
    attempts: int,
    sent_as: str,
) -> None:
    update = delivery("p1", "a", len(before) + 1, "pending", "alert.updated")
    update.attempts = attempts
    update.payload = '{"type":"alert.updated","id":"x"}'
    async with sessions() as session, session.begin():
        session.add_all([partner("p1"), partner("p2")])
        await session.flush()
        earlier = [delivery("p1", "a", n, s, t) for n, (s, t) in enumerate(before, start=1)]
        # Another partner's delivered Alert says nothing of p1's.
        session.add_all([*earlier, update, delivery("p2", "a", 1, "delivered", "alert.issued")])
    async with sessions() as session, session.begin():
        claimed = await session.get_one(Delivery, update.id)
        await as_the_alert_where_unseen(session, [claimed])
    async with sessions() as session:
        stored = await session.get_one(Delivery, update.id)
        statuses = [(await session.get_one(Delivery, d.id)).status for d in earlier]
    assert stored.event_type == sent_as
    assert json.loads(stored.payload)["type"] == sent_as
    # Sent as the alert, it supersedes what died before it; else nothing before it changes.
    dead_then = "superseded" if sent_as == "alert.issued" else "dead"
    assert statuses == [dead_then if s == "dead" else s for s, _ in before]


async def test_a_dead_expiry_is_replayed_like_a_cancel(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Both take-downs go whenever the partner may still show the alert: an expiry that died
    past its own retry window is replayed, with the take-down's window anew."""
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        expired = delivery("p1", "a", 2, "dead", "alert.expired")
        expired.deadline = NOW - timedelta(hours=1)
        session.add(expired)
    async with sessions() as session, session.begin():
        replayed = await DeliveryService(session, NOW).replay("p1-a-2", timedelta(hours=72))
    assert replayed.status == "pending"
    async with sessions() as session:
        stored = await session.get_one(Delivery, "p1-a-2")
    assert stored.deadline == NOW + timedelta(hours=72)


@pytest.mark.parametrize("replayed_type", ["alert.issued", "alert.updated"])
async def test_no_version_of_an_alert_taken_down_is_replayed_even_to_a_partner_without_the_cancel(
    sessions: async_sessionmaker[AsyncSession], replayed_type: str
) -> None:
    async with sessions() as session, session.begin():
        session.add_all([partner("p1"), partner("p2")])
        await session.flush()
        session.add_all(
            [
                # p1's last version died; the Cancel was planned for p2 only.
                delivery("p1", "a", 2, "dead", replayed_type),
                delivery("p2", "a", 3, "delivered", "alert.cancelled"),
                # Another alert, still up: its dead version may go again.
                delivery("p1", "b", 2, "dead", replayed_type),
            ]
        )
    async with sessions() as session, session.begin():
        service = DeliveryService(session, NOW)
        with pytest.raises(Problem) as refused:
            await service.replay("p1-a-2", timedelta(hours=72))
        assert refused.value.status == 409
        assert "taken down" in str(refused.value.detail)
        still_up = await service.replay("p1-b-2", timedelta(hours=72))
    assert still_up.status == "pending"


@pytest.fixture
async def slow_retry_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """Retries ten minutes apart: a delivery sent within a test's wait was brought forward."""
    settings = embedded_settings(tmp_path, webhook_retry_schedule_s=(0.0, 600.0, 600.0))
    running, server = await start_stack(settings)
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


async def test_a_test_event_the_partner_accepts_sends_what_waited_out_a_back_off(
    slow_retry_stack: Stack,
) -> None:
    stack = slow_retry_stack
    async with partner_endpoint(script=[500]) as endpoint:
        registered, waiting = await _an_alert_refused_once(stack, endpoint)
        due = datetime.fromisoformat(waiting["next_attempt_at"])
        assert due - datetime.now(UTC) > timedelta(minutes=5)  # the back-off, untouched so far

        async with stack.client("admin") as admin:
            tested = await admin.post(f"/v1/partners/{registered['id']}/test")
        assert tested.json()["delivered"] is True
        # The refused alert, then the test event, then the alert again: long before its time.
        alert, ping, again = await endpoint.wait_for(3)
        assert json.loads(ping.body)["type"] == "ping"
        assert again.headers["webhook-id"] == alert.headers["webhook-id"] == waiting["webhook_id"]
        assert datetime.now(UTC) < due


async def test_a_delivery_the_partner_throttled_waits_what_it_asked_whatever_else_it_accepts(
    slow_retry_stack: Stack,
) -> None:
    """Answered 429 with ``Retry-After: 900``, an alert waits those 15 minutes even when the
    partner accepts a test event meanwhile (that it takes requests says nothing of its
    limit: sent again at once, the alert would answer a throttle with a burst); refused with
    a 500, one would have gone at once (above)."""
    stack = slow_retry_stack
    async with partner_endpoint(script=[429]) as endpoint:
        endpoint.retry_after = "900"
        registered, waiting = await _an_alert_refused_once(stack, endpoint)
        asked = datetime.fromisoformat(waiting["next_attempt_at"])
        assert asked - datetime.now(UTC) > timedelta(minutes=14)
        async with stack.client("admin") as admin:
            tested = await admin.post(f"/v1/partners/{registered['id']}/test")
        assert tested.json()["delivered"] is True
        [still] = await stack.deliveries(status="pending")
        assert datetime.fromisoformat(still["next_attempt_at"]) == asked
        assert [json.loads(r.body)["type"] for r in endpoint.received] == ["alert.issued", "ping"]


async def _an_alert_refused_once(
    stack: Stack, endpoint: PartnerEndpoint
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The endpoint registered, and a case's alert sent to it once (refused, as its script
    says) and waiting to go again: (the registration, the waiting delivery)."""
    registered = await stack.register_partner(endpoint)
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        await an_approved_case(police, reviewer)
    [waiting] = await eventually(
        lambda: stack.deliveries(status="pending"),
        lambda items: len(items) == 1 and items[0]["attempts"] == 1,
    )
    return registered, waiting


async def test_a_second_rotation_never_cuts_short_the_overlap_a_partner_was_given(
    stack: Stack,
) -> None:
    async with partner_endpoint() as endpoint:
        registered = await stack.register_partner(endpoint)
        rotate = f"/v1/partners/{registered['id']}/rotate-secret"
        async with stack.client("admin") as admin:
            first = await admin.post(rotate, json={"overlap_hours": 1})
            assert first.status_code == 200, first.text
            again = await admin.post(rotate, json={"overlap_hours": 24})
            assert again.status_code == 409, again.text
            assert first.json()["secret_rotation_ends"][:16] in again.json()["detail"]
            # The refused rotation changed nothing: the next test event still carries a
            # signature by the first secret, and one by the second.
            tested = await admin.post(f"/v1/partners/{registered['id']}/test")
            assert tested.json()["delivered"] is True
            [ping] = [r for r in endpoint.received if json.loads(r.body)["type"] == "ping"]
            verify_both_signatures(str(registered["secret"]), ping, previous=True)
            verify_both_signatures(str(first.json()["secret"]), ping)
            # A leaked secret: an immediate rotation ends every older secret at once.
            urgent = await admin.post(rotate, json={"overlap_hours": 0})
            assert urgent.status_code == 200, urgent.text
            assert urgent.json()["secret_rotation_ends"] is None  # no overlap to end
            assert (await admin.post(f"/v1/partners/{registered['id']}/test")).json()["delivered"]
            # An empty POST rotates with the default overlap: a day.
            plain = await admin.post(rotate)
        last = endpoint.received[-1]
        verify_both_signatures(str(urgent.json()["secret"]), last)
        assert len(last.headers["webhook-signature"].split(" ")) == 1
        assert plain.status_code == 200, plain.text
        overlap = datetime.fromisoformat(plain.json()["secret_rotation_ends"]) - datetime.now(UTC)
        assert timedelta(hours=23) < overlap <= timedelta(hours=24)


async def test_verification_still_waits_out_what_the_partner_throttled(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Verified again, a partner that answered 429 with a Retry-After still holds its limit:
    that version goes when it asked, the others at once."""
    asked = NOW + timedelta(minutes=15)
    throttled = delivery("p1", "throttled", 1, "pending", "alert.issued")
    throttled.attempts, throttled.next_attempt_at, throttled.retry_not_before = 1, asked, asked
    failed = delivery("p1", "failed", 1, "pending", "alert.issued")
    failed.attempts, failed.next_attempt_at = 1, asked
    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        session.add_all([throttled, failed])
    async with sessions() as session, session.begin():
        await owed_again(session, "p1", NOW, timedelta(hours=72))
        await bring_forward(session, "p1", NOW)  # as a handshake passed calls both
    async with sessions() as session:
        due = {d.alert_id: d.next_attempt_at for d in await session.scalars(select(Delivery))}
    assert due == {"throttled": asked, "failed": NOW}


async def test_verification_makes_each_alerts_newest_owed_version_go_as_it_must(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    later = NOW + timedelta(hours=2)  # the verification: every first deadline has passed
    up = later + timedelta(hours=1)  # an alert still up then

    def version(alert: str, sequence: int, status: str, kind: str, deadline: Any = None) -> Any:
        made = delivery("p1", alert, sequence, status, kind)
        made.deadline = deadline or made.deadline
        return made

    async with sessions() as session, session.begin():
        session.add(partner("p1"))
        await session.flush()
        session.add_all(
            [
                # A take-down, dead or out of time unsent: always, with its window anew.
                version("found", 1, "delivered", "alert.issued"),
                version("found", 2, "dead", "alert.cancelled"),
                version("late", 1, "delivered", "alert.issued"),
                version("late", 2, "pending", "alert.cancelled"),
                # The newest delivered: nothing of it waits.
                version("moved-on", 1, "dead", "alert.issued"),
                version("moved-on", 2, "delivered", "alert.updated", up),
                # Still up: again; over (its deadline passed): not.
                version("up", 1, "dead", "alert.issued", up),
                version("over", 1, "dead", "alert.issued"),
                # Expired, then brought back by a renewal: its new Alert goes.
                version("back", 1, "delivered", "alert.issued"),
                version("back", 2, "delivered", "alert.expired"),
                version("back", 3, "dead", "alert.issued", up),
                # Never shown (its Alert died): the newest goes as the Alert, alone.
                version("unseen", 1, "dead", "alert.issued", up),
                version("unseen", 2, "dead", "alert.updated", up),
                version("unseen-waiting", 1, "dead", "alert.issued", up),
                version("unseen-waiting", 2, "pending", "alert.updated", up),
            ]
        )
    async with sessions() as session, session.begin():
        await owed_again(session, "p1", later, timedelta(hours=72))
    async with sessions() as session:
        rows = {d.id: d for d in await session.scalars(select(Delivery))}
    due = {k for k, d in rows.items() if d.status == "pending"}
    assert due == {
        "p1-found-2",
        "p1-late-2",
        "p1-up-1",
        "p1-back-3",
        "p1-unseen-2",
        "p1-unseen-waiting-2",
    }
    assert all(rows[k].next_attempt_at == later for k in due)
    assert rows["p1-found-2"].deadline == rows["p1-late-2"].deadline == later + timedelta(hours=72)
    assert rows["p1-over-1"].status == rows["p1-moved-on-1"].status == "dead"
    for unseen in ("p1-unseen-2", "p1-unseen-waiting-2"):
        assert rows[unseen].event_type == "alert.issued"
        assert json.loads(rows[unseen].payload)["type"] == "alert.issued"
    assert rows["p1-unseen-1"].status == rows["p1-unseen-waiting-1"].status == "superseded"
