"""Correcting a case (``PATCH /v1/reports/{id}``, a JSON merge patch) through the real HTTP API
of an embedded stack: a case filed before the guardian's consent, approved once it is
recorded; a live alert's photo and clothing corrected, which partners receive at once; and
corrections that are refused, which change nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.events import REPORTS
from shared.outbox import OutboxEvent
from tests.waiting import eventually

MERGE_PATCH = {"content-type": "application/merge-patch+json"}
NEW_PHOTO = "https://photos.police.example.ma/cases/amina-2.jpg"


async def _events(stack: Stack) -> int:
    """Intake's events so far (the alert engine's own, written as it gets to them, aside)."""
    async with stack.embedded.sessions() as session:
        count = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == REPORTS)
        return int(await session.scalar(count) or 0)


async def test_a_case_filed_before_consent_is_approved_once_consent_is_recorded(
    stack: Stack,
) -> None:
    body = report_body()
    body["guardian"]["consent_to_publication"] = False
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        filed = await police.post("/v1/reports", json=body)
        assert filed.status_code == 201, filed.text  # recorded: the case exists regardless
        report_id = filed.json()["id"]
        refused = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        consent = {"guardian": {"consent_to_publication": True}}
        corrected = await police.patch(
            f"/v1/reports/{report_id}", content=json.dumps(consent), headers=MERGE_PATCH
        )
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["criteria.guardian_consent_recorded"]
    assert corrected.status_code == 200, corrected.text
    report = corrected.json()["report"]
    assert report["guardian"]["consent_to_publication"] is True
    # The rest of the report is as filed: a merge patch changes only what it names.
    assert report["guardian"]["name"] == body["guardian"]["name"]
    assert report["child"] == filed.json()["report"]["child"]
    assert report["last_seen"] == filed.json()["report"]["last_seen"]
    assert approved.status_code == 200, approved.text


async def test_a_live_alert_corrected_reaches_partners_at_once(stack: Stack) -> None:
    async with partner_endpoint() as partner:
        await stack.register_partner(partner)
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
            await partner.wait_for(1)
            path = f"/v1/reports/{report_id}"
            patch = {"child": {"photo_urls": [NEW_PHOTO], "clothing": "Robe rouge, cartable"}}
            # What partners show was approved by a second key: so is a change of it.
            alone = await police.patch(path, json=patch)
            assert alone.status_code == 403, alone.text
            assert alone.json()["title"] == "Four eyes"
            # The guardian's contact is not shown: the unit corrects it, and nothing is sent.
            contact = await police.patch(path, json={"guardian": {"phone": "+212 600 000 001"}})
            assert contact.status_code == 200, contact.text
            corrected = await reviewer.patch(path, json=patch)
            assert corrected.status_code == 200, corrected.text
            # The same patch again changes nothing, and sends nothing.
            again = await reviewer.patch(path, json=patch)
            assert again.status_code == 200, again.text
        issued, updated = [json.loads(r.body) for r in await partner.wait_for(2)]
    assert (issued["type"], updated["type"]) == ("alert.issued", "alert.updated")
    alert = updated["alert"]
    assert alert["sequence"] == 2 and alert["msg_type"] == "Update"
    assert alert["photo_urls"] == [NEW_PHOTO]
    assert alert["child"]["clothing"] == "Robe rouge, cartable"
    assert issued["alert"]["photo_urls"] != [NEW_PHOTO]
    # Nothing else of the child changed, and nothing restricted reached the partner.
    assert alert["child"]["given_name"] == issued["alert"]["child"]["given_name"]
    assert "guardian" not in json.dumps(updated) and "600 000 001" not in json.dumps(updated)
    async with stack.client("reader") as reader:
        current = await eventually(
            lambda: reader.get(f"/v1/alerts/{approved.json()['alert_id']}"),
            lambda r: r.status_code == 200 and r.json()["sequence"] == 2,
        )
    assert current.json()["sequence"] == 2  # the repeated patch made no third version


async def test_a_refused_correction_changes_nothing(stack: Stack) -> None:
    async with stack.clients("submitter", "reviewer", "reader") as (police, reviewer, reader):
        waiting = (await police.post("/v1/reports", json=report_body())).json()["id"]
        public = (await police.post("/v1/reports", json=report_body())).json()["id"]
        assert (await reviewer.post(f"/v1/reports/{public}/approve", json=CRITERIA)).is_success
        before = {r: (await police.get(f"/v1/reports/{r}")).json() for r in (waiting, public)}
        events = await _events(stack)
        refusals: list[tuple[str, dict[str, Any], int, str]] = [
            (waiting, {"child": {"age": 30}}, 422, "child.age"),
            (
                waiting,
                {"child": {"photo_urls": ["http://10.0.0.7/a.jpg"]}},
                422,
                "child.photo_urls.0",
            ),
            (waiting, {"child": {"eye_colour": "brown"}}, 422, "child.eye_colour"),
            (
                waiting,
                {"guardian": {"consent_to_publication": "yes"}},
                422,
                "guardian.consent_to_publication",
            ),
            (waiting, {"message_status": "Exercise"}, 422, "message_status"),
            (waiting, {"submitted_by": {"officer": "Someone Else"}}, 422, "submitted_by"),
            (public, {"last_seen": {"place_name": "Rabat"}}, 422, "last_seen"),
            (public, {"travel_mode": "foot"}, 422, "travel_mode"),
            # A live alert keeps the criteria it was approved on: consent withdrawn is a
            # cancellation, not a correction.
            (
                public,
                {"guardian": {"consent_to_publication": False}},
                422,
                "criteria.guardian_consent_recorded",
            ),
        ]
        answers = [
            (await police.patch(f"/v1/reports/{r}", json=patch), status, field)
            for r, patch, status, field in refusals
        ]
        not_json = await police.patch(
            f"/v1/reports/{waiting}", content=b"child=x", headers={"content-type": "text/plain"}
        )
        not_an_object = await police.patch(f"/v1/reports/{waiting}", json=["child"])
        # Nested as deep as the parser takes: refused, not a server error.
        deep = await police.patch(
            f"/v1/reports/{waiting}",
            content=b'{"notes": ' + b'{"a": ' * 900 + b"1" + b"}" * 901,
            headers=MERGE_PATCH,
        )
        no_scope = await reader.patch(f"/v1/reports/{waiting}", json={"child": {"clothing": "x"}})
        after = {r: (await police.get(f"/v1/reports/{r}")).json() for r in (waiting, public)}
    for answer, status, field in answers:
        assert answer.status_code == status, (field, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text
    assert not_json.status_code == 415
    assert not_an_object.status_code == 422
    assert deep.status_code == 422, deep.text
    assert deep.json()["errors"][0]["field"] in ("body", "notes")
    assert no_scope.status_code == 403
    assert after == before
    assert await _events(stack) == events


async def test_a_closed_case_is_not_corrected_and_a_new_place_is_looked_up(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        closed = (await police.post("/v1/reports", json=report_body())).json()["id"]
        assert (await police.post(f"/v1/reports/{closed}/resolve")).status_code == 200
        late = await police.patch(f"/v1/reports/{closed}", json={"child": {"clothing": "x"}})
        waiting = (await police.post("/v1/reports", json=report_body())).json()
        stored_place = waiting["report"]["last_seen"]["place_name"]
        same = await police.patch(
            f"/v1/reports/{waiting['id']}", json={"last_seen": {"place_name": stored_place}}
        )
        moved = await police.patch(
            f"/v1/reports/{waiting['id']}", json={"last_seen": {"place_name": "Rabat"}}
        )
    assert late.status_code == 409, late.text
    assert late.json()["status_now"] == "resolved"
    # The same name again keeps the point (it may be an officer's exact one).
    assert same.status_code == 200, same.text
    assert same.json()["report"]["last_seen"] == waiting["report"]["last_seen"]
    assert moved.status_code == 200, moved.text
    last_seen = moved.json()["report"]["last_seen"]
    # Before review, a new place name is looked up again: not shown beside the old point.
    assert last_seen["place_name"] == "Rabat"
    assert last_seen["location"] != waiting["report"]["last_seen"]["location"]
    assert abs(last_seen["location"]["lat"] - 34.02) < 0.1
    assert abs(last_seen["location"]["lon"] - -6.84) < 0.1
