"""A report or sighting may name a town instead of giving coordinates: it is
geocoded offline at submission, Arabic and French spellings alike; an unknown or ambiguous name
is a 422 listing candidates, never a guess. Through the real HTTP API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from intake_api.models import Report, Sighting
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.outbox import OutboxEvent
from tests.flows import haversine_m
from tests.waiting import eventually

# Checked by hand: Laâyoune's centre is at about 27.15 N, 13.20 W; the gazetteer (GeoNames)
# has 27.1418 N, 13.1880 W, i.e. 0.9 km south and 1.2 km east: 1.5 km away.
LAAYOUNE = (27.15, -13.20)
# Casablanca's centre, 33.5731 N, 7.5898 W (the point report_body uses); GeoNames has
# 33.5883 N, 7.6114 W: 1.7 km north and 2.0 km west, 2.6 km away.
CASABLANCA = (33.5731, -7.5898)


def _by_name(place_name: str | None, **last_seen: Any) -> dict[str, Any]:
    """A report body whose last-seen place is only a name (unless ``location`` is given)."""
    body = report_body()
    del body["last_seen"]["location"]
    if place_name is None:
        del body["last_seen"]["place_name"]
    else:
        body["last_seen"]["place_name"] = place_name
    body["last_seen"].update(last_seen)
    return body


async def _stored(stack: Stack) -> tuple[int, int, int]:
    async with stack.embedded.sessions() as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
        sightings = await session.scalar(select(func.count()).select_from(Sighting))
        events = await session.scalar(select(func.count()).select_from(OutboxEvent))
    return int(reports or 0), int(sightings or 0), int(events or 0)


async def _issued(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    """The alert a report of ``body`` becomes once approved, as readers get it (current)."""
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        approved = await reviewer.post(f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
        alert_id = approved.json()["alert_id"]
    async with stack.client("reader") as reader:
        alert = await eventually(
            lambda: reader.get(f"/v1/alerts/{alert_id}"), lambda r: r.status_code == 200
        )
    current: dict[str, Any] = alert.json()["current"]
    return current


def _problem(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert problem["detail"].startswith(f"{field}: ")
    return problem


async def test_french_latin_and_arabic_spellings_give_one_point(stack: Stack) -> None:
    points = []
    async with stack.client("submitter") as police:
        for name in ("Laâyoune", "Laayoune", "العيون"):
            response = await police.post("/v1/reports", json=_by_name(name))
            assert response.status_code == 201, response.text
            last_seen = response.json()["report"]["last_seen"]
            assert last_seen["place_name"] == name  # the name is kept as written
            points.append((last_seen["location"]["lat"], last_seen["location"]["lon"]))
            # Stored, not only answered: a fresh read gives the same point.
            again = await police.get(response.headers["Location"])
            assert again.json()["report"]["last_seen"] == last_seen
    assert points[0] == points[1] == points[2]
    assert haversine_m(*LAAYOUNE, *points[0]) < 3_000


async def test_arabic_name_of_casablanca(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        response = await police.post("/v1/reports", json=_by_name("الدار البيضاء"))
    assert response.status_code == 201, response.text
    location = response.json()["report"]["last_seen"]["location"]
    assert haversine_m(*CASABLANCA, location["lat"], location["lon"]) < 5_000


async def test_unknown_place_is_a_422_with_candidates_and_nothing_stored(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        atlantis = await police.post("/v1/reports", json=_by_name("Atlantis"))
        typo = await police.post("/v1/reports", json=_by_name("Casablnca"))
    problem = _problem(atlantis, "last_seen.place_name")
    assert problem["candidates"] == []  # nothing close: no suggestion rather than a guess
    assert "location" in problem["errors"][0]["message"]
    assert "Atlantis" not in atlantis.text  # input values are not echoed

    suggested = _problem(typo, "last_seen.place_name")["candidates"]
    [casablanca] = [c for c in suggested if c["name"] == "Casablanca"]
    assert casablanca["region"] == {
        "code": "MA-06",
        "fr": "Casablanca-Settat",
        "ar": "الدار البيضاء-سطات",
    }
    assert haversine_m(*CASABLANCA, casablanca["lat"], casablanca["lon"]) < 5_000
    assert casablanca["population"] > 3_000_000
    assert (casablanca["name_fr"], casablanca["name_ar"]) == ("Casablanca", "الدار البيضاء")
    assert await _stored(stack) == (0, 0, 0)


async def test_a_candidate_is_named_in_french_and_arabic_not_only_as_geonames_names_it(
    stack: Stack,
) -> None:
    """GeoNames' own name of Tangier is the English one: a French page offered "Tangier" for
    a near miss, and an Arabic page too."""
    async with stack.client("submitter") as police:
        typo = await police.post("/v1/reports", json=_by_name("طنجا"))
    suggested = _problem(typo, "last_seen.place_name")["candidates"]
    [tangier] = [c for c in suggested if c["name"] == "Tangier"]
    assert (tangier["name_fr"], tangier["name_ar"]) == ("Tanger", "طنجة")
    for spelling in ("Tanger", "طنجة"):  # each offered name finds the place
        async with stack.client("submitter") as police:
            found = await police.post("/v1/reports", json=_by_name(spelling))
        assert found.status_code == 201, found.text


async def test_ambiguous_place_is_a_422_listing_the_places(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        response = await police.post("/v1/reports", json=_by_name("Dakhla"))
    problem = _problem(response, "last_seen.place_name")
    candidates = problem["candidates"]
    assert len(candidates) >= 2
    assert len({c["region"]["code"] for c in candidates}) >= 2  # different regions
    assert {c["region"]["fr"] for c in candidates} >= {"Dakhla-Oued Ed-Dahab", "Souss-Massa"}
    for c in candidates:
        assert c["name"] == "Dakhla"
        assert {"lat", "lon", "population"} <= c.keys()
    message = problem["errors"][0]["message"]
    assert "location" in message and "'Dakhla (MA-12)'" in message
    assert await _stored(stack) == (0, 0, 0)


async def test_an_ambiguous_place_is_named_with_its_region(stack: Stack) -> None:
    """The way the 422 offers: the name, then its region (code or name, French or Arabic)."""
    async with stack.client("submitter") as police:
        for typed in (
            "Dakhla (MA-12)",
            "Dakhla, Dakhla-Oued Ed-Dahab",
            "الداخلة، الداخلة-وادي الذهب",
        ):
            created = await police.post("/v1/reports", json=_by_name(typed))
            assert created.status_code == 201, created.text
            point = created.json()["report"]["last_seen"]["location"]
            assert abs(point["lat"] - 23.68) < 0.05 and abs(point["lon"] + 15.96) < 0.05, typed
        agadir = await police.post("/v1/reports", json=_by_name("Dakhla (Souss-Massa)"))
        assert agadir.json()["report"]["last_seen"]["location"]["lat"] > 30
        nowhere = await police.post("/v1/reports", json=_by_name("Casablanca (MA-12)"))
    _problem(nowhere, "last_seen.place_name")


async def test_an_arabic_name_asks_as_its_latin_name_does(stack: Stack) -> None:
    """Only the Ifrane near Fès has an Arabic name in the data: "إفران" asks which Ifrane, as
    "Ifrane" does, rather than put a report from near Azilal at Fès; its region settles it."""
    async with stack.client("submitter") as police:
        latin = await police.post("/v1/reports", json=_by_name("Ifrane"))
        arabic = await police.post("/v1/reports", json=_by_name("إفران"))
        azilal = await police.post("/v1/reports", json=_by_name("إفران (بني ملال-خنيفرة)"))
    asked = _problem(arabic, "last_seen.place_name")["candidates"]
    assert asked == _problem(latin, "last_seen.place_name")["candidates"]
    assert {c["region"]["code"] for c in asked} == {"MA-03", "MA-05"}
    assert azilal.status_code == 201, azilal.text
    point = azilal.json()["report"]["last_seen"]["location"]
    [near_azilal] = [c for c in asked if c["region"]["code"] == "MA-05"]
    assert (point["lat"], point["lon"]) == (near_azilal["lat"], near_azilal["lon"])


async def test_a_namesake_is_told_apart_by_its_region_in_every_text(stack: Stack) -> None:
    """The Ifrane near Azilal, found by its region's code: every text, and the area's
    description, give the region's name after the town's (else readers think of the Ifrane
    near Fès); the code, officers' shorthand, reaches no one."""
    current = await _issued(stack, _by_name("Ifrane (MA-05)"))
    info = {block["language"]: block for block in current["info"]}
    areas = current["area"]["descriptions"]
    for language in ("fr", "en"):
        assert "Ifrane (Béni Mellal-Khénifra)" in info[language]["description"]
        assert areas[language] == "Ifrane (Béni Mellal-Khénifra)"
    assert "Ifrane (بني ملال-خنيفرة)" in info["ar"]["description"]
    assert areas["ar"] == "Ifrane (بني ملال-خنيفرة)"
    texts = json.dumps([current["info"], areas], ensure_ascii=False)
    assert "MA-05" not in texts and "Ifrane (" in texts


async def test_a_location_wins_over_a_name(stack: Stack) -> None:
    point = {"lat": 30.4114, "lon": -9.5531}
    async with stack.client("submitter") as police:
        # An ambiguous, even an unknown name is no obstacle when the point is given.
        for name in ("Dakhla", "Atlantis"):
            response = await police.post("/v1/reports", json=_by_name(name, location=point))
            assert response.status_code == 201, response.text
            assert response.json()["report"]["last_seen"]["location"] == point
            assert response.json()["report"]["last_seen"]["place_name"] == name


async def test_neither_point_nor_name_is_a_422_naming_location(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        response = await police.post("/v1/reports", json=_by_name(None))
        null_point = await police.post("/v1/reports", json=_by_name(None, location=None))
    _problem(response, "last_seen.location")
    _problem(null_point, "last_seen.location")
    assert await _stored(stack) == (0, 0, 0)


async def test_idempotent_replay_of_a_named_place(stack: Stack) -> None:
    body = _by_name("Laâyoune")
    headers = {"Idempotency-Key": "place-name-1"}
    async with stack.client("submitter") as police:
        first = await police.post("/v1/reports", json=body, headers=headers)
        second = await police.post("/v1/reports", json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert (await _stored(stack))[0] == 1


async def test_sightings_by_name(stack: Stack) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    async with stack.client("submitter") as police:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        url = f"/v1/reports/{report_id}/sightings"
        before = await _stored(stack)

        named = await police.post(url, json={"place_name": "طنجة", "at": at})
        assert named.status_code == 201, named.text
        assert named.json()["place_name"] == "طنجة"
        location = named.json()["location"]
        # Tangier's centre, 35.77 N, 5.80 W (by hand).
        assert haversine_m(35.77, -5.80, location["lat"], location["lon"]) < 5_000

        unknown = await police.post(url, json={"place_name": "Atlantis", "at": at})
        _problem(unknown, "place_name")
        ambiguous = await police.post(url, json={"place_name": "Dakhla", "at": at})
        assert len(_problem(ambiguous, "place_name")["candidates"]) >= 2
        _problem(await police.post(url, json={"at": at}), "location")

        read = (await police.get(f"/v1/reports/{report_id}")).json()
    assert [s["location"] for s in read["sightings"]] == [location]
    reports, sightings, events = await _stored(stack)
    assert (reports, sightings, events) == (before[0], before[1] + 1, before[2] + 1)


async def test_a_report_given_only_a_town_gets_an_alert_zone_around_it(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=_by_name("Laâyoune"))
        assert created.status_code == 201, created.text
        report = created.json()
        approved = await reviewer.post(f"/v1/reports/{report['id']}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
        alert_id = approved.json()["alert_id"]
    point = report["report"]["last_seen"]["location"]

    async with stack.client("reader") as reader:
        zone = await eventually(
            lambda: reader.get(f"/v1/alerts/{alert_id}/zone"), lambda r: r.status_code == 200
        )
    feature = zone.json()
    assert feature["properties"]["center"] == pytest.approx([point["lon"], point["lat"]])
    area = shape(feature["geometry"])
    assert area.contains(Point(point["lon"], point["lat"]))
    assert area.contains(Point(LAAYOUNE[1], LAAYOUNE[0]))  # the town itself, by hand


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Tanger", {"ar": "طنجة", "fr": "Tanger", "en": "Tanger"}),
        ("الرباط", {"ar": "الرباط", "fr": "Rabat", "en": "Rabat"}),
    ],
)
async def test_each_alert_text_names_the_place_in_its_own_language(
    stack: Stack, typed: str, expected: dict[str, str]
) -> None:
    current = await _issued(stack, _by_name(typed))
    info = {block["language"]: block for block in current["info"]}
    for language, name in expected.items():
        assert name in info[language]["description"], info[language]["description"]
        others = {n for lang, n in expected.items() if n != name and lang != language}
        assert not any(n in info[language]["description"] for n in others)


@pytest.mark.parametrize("typed", ["Atlantis", "Rabat"])
async def test_a_name_beside_a_point_reaches_the_texts_only_if_it_is_a_town_there(
    stack: Stack, typed: str
) -> None:
    """Not geocoded, so never refused: an unknown name, or a town 450 km from the point,
    gives way in the public texts to the town nearest the point."""
    agadir = {"lat": 30.4114, "lon": -9.5531}
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=_by_name(typed, location=agadir))
        assert created.status_code == 201, created.text
        assert created.json()["report"]["last_seen"]["place_name"] == typed  # kept as typed
        approved = await reviewer.post(f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
    async with stack.client("reader") as reader:
        alert = await eventually(
            lambda: reader.get(f"/v1/alerts/{alert_id}"), lambda r: r.status_code == 200
        )
    current = alert.json()["current"]
    info = {block["language"]: block for block in current["info"]}
    assert "Agadir" in info["fr"]["description"] and "Agadir" in info["en"]["description"]
    assert "أكادير" in info["ar"]["description"]
    assert typed not in json.dumps(current, ensure_ascii=False)


async def test_a_name_two_towns_share_beside_a_point_is_the_town_there(stack: Stack) -> None:
    """ "Dakhla" names the city in the south and a town by Agadir alike (a 422 without a
    point); beside the point of the one by Agadir, the texts name that one, with its region
    after it, where they named Agadir (the largest town there) for want of a single place."""
    by_agadir = {"lat": 30.4114, "lon": -9.5534}
    current = await _issued(stack, _by_name("Dakhla", location=by_agadir))
    info = {block["language"]: block for block in current["info"]}
    assert "Dakhla (Souss-Massa)" in info["fr"]["description"]
    assert "Dakhla (Souss-Massa)" in info["en"]["description"]
    assert "الداخلة (سوس-ماسة)" in info["ar"]["description"]
    assert "Agadir" not in json.dumps(current["info"], ensure_ascii=False)


async def test_a_point_given_alone_is_named_by_the_largest_town_there(stack: Stack) -> None:
    """Readers know "Casablanca", not its coordinates: the texts name the town, in each
    language, rather than "an unspecified place"."""
    body = report_body()
    body["last_seen"] = {
        "location": {"lat": 33.5731, "lon": -7.5898},
        "at": body["last_seen"]["at"],
    }
    info = {block["language"]: block for block in (await _issued(stack, body))["info"]}
    assert "Casablanca" in info["fr"]["description"] and "Casablanca" in info["en"]["description"]
    assert "الدار البيضاء" in info["ar"]["description"]
    assert "unspecified" not in info["en"]["description"]


async def test_a_name_is_shown_where_a_submission_would_put_it(stack: Stack) -> None:
    """``GET /v1/map/place``: what a form shows on its map as the name is typed is the point
    the report gets when filed with that name alone, and the refusal is the one filing gets."""
    async with stack.client("submitter") as police:
        for typed in ("Dakhla (MA-12)", "  فاس  ", "Tanger"):
            shown = await police.get("/v1/map/place", params={"name": typed})
            assert shown.status_code == 200, shown.text
            filed = await police.post("/v1/reports", json=_by_name(typed.strip()))
            assert filed.status_code == 201, filed.text
            point = filed.json()["report"]["last_seen"]["location"]
            assert (shown.json()["lat"], shown.json()["lon"]) == (point["lat"], point["lon"])
        assert shown.json()["name_fr"] == "Tanger" and shown.json()["region"]["code"] == "MA-01"
        before = await _stored(stack)
        for typed in ("Dakhla", "Atlantis"):
            asked = await police.get("/v1/map/place", params={"name": typed})
            refused = await police.post("/v1/reports", json=_by_name(typed))
            shown_problem = _problem(asked, "name")
            filed_problem = _problem(refused, "last_seen.place_name")
            assert shown_problem["candidates"] == filed_problem["candidates"]
            assert shown_problem["errors"][0]["message"] == filed_problem["errors"][0]["message"]
        missing = await police.get("/v1/map/place")
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["query.name"]
    assert await _stored(stack) == before
