"""Bad input: a 4xx problem+json naming the field, and nothing stored or published."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_api.models import Report
from services.testbed.sample_report import CRITERIA, DELETE, report_body, report_body_with
from services.testbed.stack import Stack
from shared.outbox import OutboxEvent


async def _stored(stack: Stack) -> tuple[int, int]:
    async with stack.embedded.sessions() as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
        events = await session.scalar(select(func.count()).select_from(OutboxEvent))
    return int(reports or 0), int(events or 0)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("last_seen.location.lat", 91, "last_seen.location.lat"),
        # Named: an id of the time itself would differ between the suite's processes.
        pytest.param(
            "last_seen.at",
            (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
            "last_seen.at",
            id="last_seen.at-in-two-hours",
        ),
        ("last_seen.at", "2026-01-01T10:00:00", "last_seen.at"),  # no time zone: ambiguous
        ("child.age", 18, "child.age"),
        ("guardian.consent_to_publication", DELETE, "guardian.consent_to_publication"),
        ("child.description", "x" * 100_000, "child.description"),
        ("child.nickname", "Mimi", "child.nickname"),
        ("surprise", True, "surprise"),
        ("child.photo_urls", ["http://insecure.example.org/a.jpg"], "child.photo_urls.0"),
        ("travel_mode", "teleport", "travel_mode"),
        ("last_seen.heading_deg", 360, "last_seen.heading_deg"),  # 0 ≤ x < 360
        ("last_seen.heading_deg", -0.5, "last_seen.heading_deg"),
        ("last_seen.destination", {}, "last_seen.destination.location"),
        ("guardian.phone", "call me", "guardian.phone"),
        ("child.given_name", "\u3164", "child.given_name"),  # a letter that draws nothing
    ],
)
async def test_invalid_report_names_the_field(
    refusing_stack: Stack, path: str, value: Any, field: str
) -> None:
    before = await _stored(refusing_stack)
    async with refusing_stack.client("submitter") as police:
        response = await police.post("/v1/reports", json=report_body_with(path, value))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["title"]
    assert field in [e["field"] for e in problem["errors"]], problem
    assert field in problem["detail"]
    assert "pattern" not in problem["detail"]  # said in words an officer reads
    assert await _stored(refusing_stack) == before


@pytest.mark.parametrize(
    ("destination", "field", "candidates"),
    [
        # Both a heading and a destination: which way is meant is unclear.
        ({"location": {"lat": 34.0331, "lon": -5.0003}}, "last_seen.destination", None),
        ({"place_name": "Atlantis"}, "last_seen.destination.place_name", 0),
        ({"place_name": "Dakhla"}, "last_seen.destination.place_name", 2),  # ambiguous
    ],
)
async def test_a_bad_direction_names_the_field(
    stack: Stack, destination: dict[str, Any], field: str, candidates: int | None
) -> None:
    body = report_body()
    if candidates is None:
        body["last_seen"]["heading_deg"] = 45.0
    body["last_seen"]["destination"] = destination
    async with stack.client("submitter") as police:
        response = await police.post("/v1/reports", json=body)
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        sighting: dict[str, Any] = {
            "location": {"lat": 33.9, "lon": -6.9},
            "at": at,
            "destination": destination,
        }
        if candidates is None:
            sighting["heading_deg"] = 45.0
        on_sighting = await police.post(f"/v1/reports/{report_id}/sightings", json=sighting)
    for answer, name in ((response, field), (on_sighting, field.removeprefix("last_seen."))):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert [e["field"] for e in problem["errors"]] == [name], problem
        assert name in problem["detail"]
        if candidates is not None:
            assert len(problem["candidates"]) >= candidates
    assert await _stored(stack) == (1, 1)  # only the second report and its event


async def test_a_direction_is_kept_and_a_destination_geocoded(stack: Stack) -> None:
    body = report_body()
    body["last_seen"]["destination"] = {"place_name": "Fès"}
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        destination = created.json()["report"]["last_seen"]["destination"]
        assert destination["place_name"] == "Fès"
        # Fès's centre is about 34.03 N, 5.00 W (by hand).
        assert abs(destination["location"]["lat"] - 34.03) < 0.1
        assert abs(destination["location"]["lon"] + 5.00) < 0.1
        report_id = created.json()["id"]
        at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        added = await police.post(
            f"/v1/reports/{report_id}/sightings",
            json={"location": {"lat": 33.9, "lon": -6.9}, "at": at, "heading_deg": 80.5},
        )
        assert added.status_code == 201, added.text
        read = (await police.get(f"/v1/reports/{report_id}")).json()
    assert read["report"]["last_seen"]["destination"] == destination
    assert read["sightings"][0]["heading_deg"] == 80.5
    assert read["sightings"][0]["destination"] is None


async def test_a_phone_typed_in_arabic_digits_is_kept_in_western_digits(stack: Stack) -> None:
    """An Arabic keyboard types ٠–٩ (or ۰–۹): the number is taken, as the digits 0–9 every
    other system reads; other scripts' digits are still refused, naming the field."""
    body = report_body()
    body["guardian"]["phone"] = "+212 ٦٦١ ۲۳ ٤٥ ٦٧"
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["report"]["guardian"]["phone"] == "+212 661 23 45 67"
        body["guardian"]["phone"] = "+212 ६६१ २३"  # Devanagari
        refused = await police.post("/v1/reports", json=body)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["guardian.phone"]


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/x-www-form-urlencoded"},
        # JSON is UTF-8 (RFC 8259): another charset would be read as UTF-8 regardless.
        {"content-type": "application/json; charset=latin-1"},
        # A compressed body would be read as its compressed bytes.
        {"content-type": "application/json", "content-encoding": "gzip"},
    ],
)
async def test_wrong_content_type_is_415(refusing_stack: Stack, headers: dict[str, str]) -> None:
    before = await _stored(refusing_stack)
    async with refusing_stack.client("submitter") as police:
        response = await police.post("/v1/reports", content=b"child=Amina", headers=headers)
        utf8 = await police.post(
            "/v1/reports",
            content=b"{}",
            headers={"content-type": "application/json; charset=UTF-8"},
        )
    assert utf8.status_code == 422  # read, and refused for what it holds
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "header.Content-Type"
    assert await _stored(refusing_stack) == before


async def test_malformed_json_is_422(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        response = await police.post(
            "/v1/reports", content=b'{"child": ', headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert await _stored(stack) == (0, 0)


async def test_a_broken_body_is_refused_where_no_body_is_read(stack: Stack) -> None:
    """An operation that reads no body (erasing an ended case) does not act on a request whose
    body does not parse, or is not JSON: the client sent something else than it meant."""
    async with stack.client("submitter") as police:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        assert (await police.post(f"/v1/reports/{report_id}/resolve")).status_code == 200
    erase = f"/v1/reports/{report_id}/erase"
    async with stack.client("reviewer") as reviewer:
        broken = await reviewer.post(
            erase, content=b'{"why": ', headers={"content-type": "application/json"}
        )
        text = await reviewer.post(erase, content=b"now", headers={"content-type": "text/plain"})
        still = (await reviewer.get(f"/v1/reports/{report_id}")).json()
        erased = await reviewer.post(erase)
    assert broken.status_code == 422, broken.text
    [error] = broken.json()["errors"]
    assert error["field"] == "body" and error["message"].startswith("not valid JSON: ")
    assert text.status_code == 415, text.text
    assert still["erased_at"] is None and still["report"] is not None
    assert erased.status_code == 200 and erased.json()["erased_at"] is not None


async def test_no_key_is_401_and_wrong_scope_is_403(stack: Stack) -> None:
    async with stack.client() as anonymous:
        response = await anonymous.post("/v1/reports", json=report_body())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    async with stack.client() as forged:
        forged.headers["Authorization"] = "Bearer " + stack.keys["submitter"][:-2] + "xx"
        refused = await forged.post("/v1/reports", json=report_body())
    # A key sent and refused is told apart from none sent (a console user did send one).
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "not accepted" in refused.json()["detail"]
    assert "Send an API key" in response.json()["detail"]
    async with stack.client("admin") as admin:  # partners:admin, not reports:submit
        response = await admin.post("/v1/reports", json=report_body())
    assert response.status_code == 403
    assert "reports:submit" in response.json()["detail"]
    assert await _stored(stack) == (0, 0)


async def test_the_submitting_key_cannot_approve(stack: Stack) -> None:
    async with stack.client("reviewer") as reviewer:  # holds both submit and review
        report_id = (await reviewer.post("/v1/reports", json=report_body())).json()["id"]
        response = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert response.status_code == 403
        assert response.json()["title"] == "Four eyes"
        assert (await reviewer.get(f"/v1/reports/{report_id}")).json()["status"] == "submitted"
    assert await _stored(stack) == (1, 1)  # the report and its 'submitted' event only


async def test_unconfirmed_criterion_blocks_approval(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        criteria = {"criteria": {**CRITERIA["criteria"], "publication_adds_no_risk": False}}
        response = await reviewer.post(f"/v1/reports/{report_id}/approve", json=criteria)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["criteria.publication_adds_no_risk"]
    assert await _stored(stack) == (1, 1)


async def test_lifecycle_conflicts_are_409(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        assert (
            await reviewer.post(
                f"/v1/reports/{report_id}/reject", json={"reason": "not a disappearance"}
            )
        ).status_code == 200
        response = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert response.status_code == 409
        assert response.json()["status_now"] == "rejected"
        read = (await reviewer.get(f"/v1/reports/{report_id}")).json()
        assert read["status_reason"] == "not a disappearance"
        assert (await police.get("/v1/reports/nope")).status_code == 404
    async with stack.embedded.sessions() as session:  # a case note: encrypted at rest
        stored = await session.get(Report, report_id)
        assert stored is not None
        assert stored.status_reason
        assert "disappearance" not in stored.status_reason


async def test_idempotency_key_replays_and_conflicts(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        headers = {"Idempotency-Key": "case-2026-0042"}
        body = report_body()
        first = await police.post("/v1/reports", json=body, headers=headers)
        again = await police.post("/v1/reports", json=body, headers=headers)
        other = await police.post(
            "/v1/reports", json={**body, "travel_mode": "foot"}, headers=headers
        )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await _stored(stack) == (1, 1)


async def test_arabic_french_and_tifinagh_round_trip(stack: Stack) -> None:
    body = report_body()
    body["child"]["given_name"] = "ⵜⵉⵍⴻⵍⵍⵉ"
    body["child"]["family_name"] = "بن علي"
    body["child"]["description"] = "Cheveux frisés, yeux marron — الشعر مجعد، العينان بنيتان"
    body["last_seen"]["place_name"] = "ⵜⴰⵎⴰⵣⵉⵔⵜ ⵏ ⵜⵉⵣⵏⵉⵜ, Aït Ourir"
    body["circumstances"] = "Disparue près du souk ; شوهدت آخر مرة قرب السوق"
    async with stack.client("submitter") as police:
        created = (await police.post("/v1/reports", json=body)).json()
        read = (await police.get(f"/v1/reports/{created['id']}")).json()
    for stored in (created, read):
        assert stored["report"]["child"]["given_name"] == "ⵜⵉⵍⴻⵍⵍⵉ"
        assert stored["report"]["child"]["family_name"] == "بن علي"
        assert stored["report"]["child"]["description"] == body["child"]["description"]
        assert stored["report"]["last_seen"]["place_name"] == body["last_seen"]["place_name"]
        assert stored["report"]["circumstances"] == body["circumstances"]


async def test_a_child_who_turns_18_stays_readable_and_closable(stack: Stack) -> None:
    body = report_body()
    body["child"].pop("age")
    body["child"]["birth_date"] = "2010-01-15"
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        report_id = (await police.post("/v1/reports", json=body)).json()["id"]
        # Time passes: the stored birth date now makes the child 18 (rewritten in place, as
        # the calendar would).
        sealer = stack.embedded.sealer
        assert sealer is not None
        async with stack.embedded.sessions() as session, session.begin():
            report = await session.get(Report, report_id)
            assert report is not None
            restricted = sealer.unseal(report.sealed_data)
            restricted["child"]["birth_date"] = "2000-01-15"
            report.sealed_data = sealer.seal(restricted)
        assert (await police.get(f"/v1/reports/{report_id}")).status_code == 200
        refused = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "criteria.child_under_18"
        cancelled = await reviewer.post(
            f"/v1/reports/{report_id}/cancel", json={"reason": "the subject is an adult"}
        )
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"


async def test_chunked_bodies_are_held_to_the_same_limits(stack: Stack) -> None:
    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    huge = b'{"pad": "' + b"x" * 2_000_000 + b'"}'
    async with stack.client("submitter") as police:
        too_big = await police.post(
            "/v1/reports", content=chunks(huge), headers={"content-type": "application/json"}
        )
        assert too_big.status_code == 413
        assert too_big.headers["content-type"] == "application/problem+json"
        fine = await police.post(
            "/v1/reports",
            content=chunks(json.dumps(report_body()).encode()),
            headers={"content-type": "application/json"},
        )
        assert fine.status_code == 201, fine.text
        not_json = await police.post(
            "/v1/reports", content=chunks(b"a=b"), headers={"content-type": "text/plain"}
        )
        assert not_json.status_code == 415


async def test_a_sighting_long_before_the_child_was_last_seen_is_refused(stack: Stack) -> None:
    """Most often a mistyped year: older than the last-seen time by more than the sighting
    horizon, it could never join the zone, and would say nothing."""
    async with stack.client("submitter") as police:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        url = f"/v1/reports/{report_id}/sightings"
        year_before = (datetime.now(UTC) - timedelta(days=366)).isoformat()
        refused = await police.post(
            url, json={"place_name": "Tanger", "at": year_before, "trusted": True}
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["at"]
        assert "too long before the child was last seen" in refused.json()["detail"]
        since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        added = await police.post(url, json={"place_name": "Tanger", "at": since, "trusted": True})
        assert added.status_code == 201, added.text
        read = (await police.get(f"/v1/reports/{report_id}")).json()
    assert [s["id"] for s in read["sightings"]] == [added.json()["id"]]
