"""Correcting a partner's registration (``PATCH /v1/partners/{id}``) on an embedded stack, with
real partner endpoints on loopback: a moved endpoint keeps the partner's id and secret and gets
what comes next, once it has passed the handshake; one that fails it changes nothing; a
coverage widened sends the alerts up that it now meets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Partner
from dispatcher.partners import PartnerService
from dispatcher.schemas import PartnerIn
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.problems import Problem
from shared.sealing import Sealer
from tests.dispatcher.conftest import NOW
from tests.flows import an_approved_case, verify_both_signatures
from tests.waiting import eventually

# Around Dakhla, a thousand kilometres from the sample report's Casablanca.
FAR_SOUTH = {
    "type": "Polygon",
    "coordinates": [[[-16.2, 23.4], [-15.6, 23.4], [-15.6, 24.0], [-16.2, 24.0], [-16.2, 23.4]]],
}


async def test_a_moved_endpoint_gets_what_comes_next_signed_with_the_same_secret(
    stack: Stack,
) -> None:
    async with partner_endpoint() as old, partner_endpoint() as new, partner_endpoint() as wrong:
        registered = await stack.register_partner(old)
        partner = f"/v1/partners/{registered['id']}"
        wrong.verify_token = "not-the-partners-token"  # answers the handshake with a 403
        async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
            report, _ = await an_approved_case(police, reviewer)
            await old.wait_for(1)
            refused = await admin.patch(partner, json={"url": wrong.url})
            still = (await admin.get(partner)).json()
            moved = await admin.patch(partner, json={"url": new.url, "name": "Metabook v2"})
            assert (await police.post(f"{report}/resolve", json={})).status_code == 200
        [cancel] = await new.wait_for(1)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["url"]
    assert "handshake" in refused.json()["detail"]
    assert still["url"] == old.url and still["status"] == "active"
    assert moved.status_code == 200, moved.text
    assert moved.json()["id"] == registered["id"] and moved.json()["url"] == new.url
    assert moved.json()["name"] == "Metabook v2" and moved.json()["status"] == "active"
    assert new.handshakes == 1 and wrong.handshakes == 1
    assert json.loads(cancel.body)["type"] == "alert.cancelled"
    verify_both_signatures(str(registered["secret"]), cancel)  # the secret did not change
    assert len(old.received) == 1  # the take-down went to the new endpoint only


async def test_a_widened_coverage_sends_the_alerts_up_it_now_meets(stack: Stack) -> None:
    async with partner_endpoint() as regional, partner_endpoint() as everywhere:
        await stack.register_partner(everywhere)
        async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
            created = await admin.post(
                "/v1/partners",
                json={
                    "name": "Regional",
                    "url": regional.url,
                    "verify_token": regional.verify_token,
                    "coverage": FAR_SOUTH,
                },
            )
            assert created.status_code == 201, created.text
            partner = f"/v1/partners/{created.json()['id']}"
            _, alert_id = await an_approved_case(police, reviewer)
            # Planned (the partner without a coverage has it), and skipped for this one: the
            # zone misses its coverage.
            await everywhere.wait_for(1)
            planned = await stack.deliveries(alert_id=alert_id)
            assert [d["partner_id"] for d in planned] != [created.json()["id"]]
            assert len(planned) == 1 and regional.received == []
            invalid = [
                await admin.patch(partner, json=body)
                for body in ({"languages": ["xx"]}, {"name": None}, {"secret": "mine"})
            ]
            widened = await admin.patch(partner, json={"coverage": None})
        [issued] = await regional.wait_for(1)
    assert [r.status_code for r in invalid] == [422, 422, 422]
    assert [r.json()["errors"][0]["field"] for r in invalid] == ["languages.0", "name", "secret"]
    assert widened.status_code == 200, widened.text
    assert widened.json()["coverage"] is None
    assert regional.handshakes == 1  # the endpoint did not change: no handshake again
    payload = json.loads(issued.body)
    assert payload["type"] == "alert.issued" and payload["alert"]["alert_id"] == alert_id


@pytest.fixture
async def slow_retry_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """Retries ten minutes apart: a delivery sent within a test's wait was brought forward."""
    running, server = await start_stack(
        embedded_settings(tmp_path, webhook_retry_schedule_s=(0.0, 600.0, 600.0))
    )
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


async def test_what_waits_for_a_moved_endpoint_goes_at_once(slow_retry_stack: Stack) -> None:
    """An endpoint that failed has its delivery waiting out a back-off of ten minutes: moved
    to one that works, the partner gets it at once, not then."""
    stack = slow_retry_stack
    async with partner_endpoint(script=[500]) as broken, partner_endpoint() as fixed:
        registered = await stack.register_partner(broken)
        async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
            await an_approved_case(police, reviewer)
            [waiting] = await eventually(
                lambda: stack.deliveries(status="pending"),
                lambda items: len(items) == 1 and items[0]["attempts"] == 1,
            )
            due = datetime.fromisoformat(waiting["next_attempt_at"])
            assert due - datetime.now(UTC) > timedelta(minutes=5)  # the back-off, so far
            moved = await admin.patch(f"/v1/partners/{registered['id']}", json={"url": fixed.url})
            assert moved.status_code == 200, moved.text
            [issued] = await fixed.wait_for(1)
    assert json.loads(issued.body)["type"] == "alert.issued"
    verify_both_signatures(str(registered["secret"]), issued)
    assert len(broken.received) == 1  # its one failed try; the rest went to the new endpoint


async def test_two_corrections_at_once_both_count(stack: Stack) -> None:
    """A new endpoint is checked by a handshake that can take seconds, outside any
    transaction: a correction of other fields made meanwhile is not undone by it."""
    async with partner_endpoint() as old, partner_endpoint() as slow:
        registered = await stack.register_partner(old)
        partner = f"/v1/partners/{registered['id']}"
        slow.handshake_gate = asyncio.Event()
        async with stack.client("admin") as admin, stack.client("admin") as other:
            moving = asyncio.create_task(admin.patch(partner, json={"url": slow.url}))
            await eventually(lambda: _handshakes(slow), lambda count: count == 1)
            renamed = await other.patch(partner, json={"name": "Renamed", "languages": ["ar"]})
            slow.handshake_gate.set()
            moved = await moving
            final = (await admin.get(partner)).json()
    assert renamed.status_code == 200 and moved.status_code == 200, moved.text
    assert (final["url"], final["name"], final["languages"]) == (slow.url, "Renamed", ["ar"])


async def _handshakes(endpoint: PartnerEndpoint) -> int:
    return endpoint.handshakes


async def test_an_endpoint_is_one_partner_s(stack: Stack) -> None:
    """Registered again once disabled (in place of verifying it again), an endpoint would show
    the first registration's alerts with their take-downs owed to it, and take each new alert
    twice: a second registration, or a correction onto another partner's endpoint, is a 409
    naming the partner that has it, and the endpoint is sent nothing."""
    async with partner_endpoint() as shown, partner_endpoint() as other:
        first = await stack.register_partner(shown)
        second = await stack.register_partner(other)
        async with stack.client("admin") as admin:
            disabled = await admin.delete(f"/v1/partners/{first['id']}")
            again = await admin.post(
                "/v1/partners",
                json={"name": "Metabook", "url": shown.url, "verify_token": shown.verify_token},
            )
            # The same endpoint spelt otherwise: the scheme's case, a fragment, an empty query.
            respelt = await admin.post(
                "/v1/partners",
                json={
                    "name": "Metabook",
                    "url": "HTTP" + shown.url.removeprefix("http") + "?#again",
                    "verify_token": shown.verify_token,
                },
            )
            onto = await admin.patch(f"/v1/partners/{second['id']}", json={"url": shown.url})
            partners = (await admin.get("/v1/partners")).json()["items"]
    assert disabled.status_code == 200, disabled.text
    for refused in (again, respelt, onto):
        assert refused.status_code == 409, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["url"]
        assert str(first["id"]) in refused.json()["detail"]
    # Each said for what was asked: a correction registers nothing.
    assert "registering it twice" in again.json()["detail"]
    assert "moving this one onto it" in onto.json()["detail"]
    assert "registering" not in onto.json()["detail"]
    assert shown.handshakes == 1  # the first registration's only
    assert [p["url"] for p in partners] == [shown.url, other.url]


async def test_two_registrations_of_one_endpoint_at_once_make_one_partner(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Each found the endpoint free before the other had stored it: two partners."""
    sealer = Sealer(Sealer.new_key())
    body = PartnerIn(
        name="Metabook", url="https://partner.example/hook", verify_token="token-of-the-partner"
    )

    async def register() -> None:
        async with sessions() as session, session.begin():
            await PartnerService(session, NOW, sealer).register(body, "not verified yet")

    async with sessions() as first, first.begin():
        await PartnerService(first, NOW, sealer).register(body, "not verified yet")
        second = asyncio.create_task(register())
        # The second waits for the first's transaction (the planning lock; on SQLite, the one
        # writer) rather than finding the endpoint free.
        done, _ = await asyncio.wait({second}, timeout=1.0)
        assert not done
    with pytest.raises(Problem) as refused:
        await second
    assert refused.value.status == 409
    async with sessions() as session:
        assert len((await session.scalars(select(Partner))).all()) == 1
