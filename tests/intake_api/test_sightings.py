"""A case's sightings come back in one order on every read, even when two were added within
one tick of the clock: a client comparing reads (the console does) must not see a change
where there is none. And a sighting sent again after a lost answer is added once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from intake_api.models import Sighting
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.events import CARRIED_SIGHTINGS
from shared.outbox import OutboxEvent


async def test_sightings_added_at_the_same_instant_keep_one_order(stack: Stack) -> None:
    async with stack.client("submitter") as client:
        created = await client.post("/v1/reports", json=report_body())
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        added = []
        for minutes in range(6):
            sighting = {
                "location": {"lat": 34.0209 + minutes / 100, "lon": -6.8416},
                "at": (datetime.now(UTC) - timedelta(minutes=10 + minutes)).isoformat(),
                "trusted": False,
            }
            answer = await client.post(f"/v1/reports/{report_id}/sightings", json=sighting)
            assert answer.status_code == 201, answer.text
            added.append(answer.json()["id"])
        # Six sightings recorded at one instant: only the tie-break orders them. Ids are
        # random, so their order differs from the order of insertion (all but 1 in 720).
        async with stack.embedded.sessions() as session, session.begin():
            await session.execute(
                update(Sighting)
                .where(Sighting.report_id == report_id)
                .values(created_at=datetime(2026, 1, 1, tzinfo=UTC))
            )
        reads = []
        for _ in range(3):
            case = await client.get(f"/v1/reports/{report_id}")
            assert case.status_code == 200, case.text
            reads.append([s["id"] for s in case.json()["sightings"]])
    assert reads[0] == sorted(added)
    assert reads[1] == reads[0] and reads[2] == reads[0]


async def test_a_sighting_sent_again_with_its_idempotency_key_is_added_once(stack: Stack) -> None:
    """A police system whose answer was lost sends the sighting again: the same sighting
    answers, marked as a replay; the key reused for something else is a 409."""
    async with stack.client("submitter") as client:
        case_id = (await client.post("/v1/reports", json=report_body())).json()["id"]
        other_id = (await client.post("/v1/reports", json=report_body())).json()["id"]
        seen = {
            "place_name": "Rabat",
            "at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "trusted": True,
        }
        key = {"Idempotency-Key": "sighting-7"}
        first = await client.post(f"/v1/reports/{case_id}/sightings", json=seen, headers=key)
        again = await client.post(f"/v1/reports/{case_id}/sightings", json=seen, headers=key)
        corrected = await client.post(
            f"/v1/reports/{case_id}/sightings", json={**seen, "place_name": "Salé"}, headers=key
        )
        elsewhere = await client.post(f"/v1/reports/{other_id}/sightings", json=seen, headers=key)
        as_report = await client.post("/v1/reports", json=report_body(), headers=key)
        case = (await client.get(f"/v1/reports/{case_id}")).json()
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [s["id"] for s in case["sightings"]] == [first.json()["id"]]
    for refused in (corrected, elsewhere, as_report):
        assert refused.status_code == 409, refused.text
        assert refused.json()["errors"][0]["field"] == "header.Idempotency-Key"


async def test_an_approval_carries_the_newest_trusted_sightings_at_most(tmp_path: Path) -> None:
    """Each sighting is about 2 KB of the approval: hundreds made while a case awaited review
    made an event too large for the broker, and the relay, publishing in order, held every
    event behind it (other children's take-downs) for good. The newest are carried."""
    settings = embedded_settings(tmp_path, rate_limit_burst=CARRIED_SIGHTINGS + 10)
    stack, server = await start_stack(settings)
    try:
        await _approved_with_many_sightings(stack)
    finally:
        await server.__aexit__(None, None, None)


async def _approved_with_many_sightings(stack: Stack) -> None:
    now = datetime.now(UTC)
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        created = await police.post("/v1/reports", json=report_body())
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        seen = []
        for minutes in range(CARRIED_SIGHTINGS + 3):
            at = (now - timedelta(minutes=minutes)).isoformat()
            sighting = {"location": {"lat": 33.5 + minutes / 1000, "lon": -7.6}, "at": at}
            answer = await police.post(
                f"/v1/reports/{report_id}/sightings", json=sighting | {"trusted": True}
            )
            assert answer.status_code == 201, answer.text
            seen.append(answer.json()["id"])
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    async with stack.embedded.sessions() as session:
        payload = await session.scalar(
            select(OutboxEvent.payload).where(OutboxEvent.event_type == "report.approved")
        )
    assert payload is not None
    carried = [s["sighting_id"] for s in json.loads(payload)["data"]["sightings"]]
    assert sorted(carried) == sorted(seen[:CARRIED_SIGHTINGS])  # the three oldest are not
