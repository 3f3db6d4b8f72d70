"""GET /v1/alerts/{id}/map.svg over real HTTP: each version of an alert (Alert, Update,
Cancel) as an SVG map with every layer, the sent polygon vertex for vertex, escaped texts and
a true scale bar; errors as problem+json."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pyproj import Geod
from shapely.geometry import shape

from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.problems import PROBLEM_JSON
from tests.waiting import eventually

SVG = "{http://www.w3.org/2000/svg}"
MARKUP_PLACE = 'Tanger <script>alert("x")</script> & co'
MARKUP_SIGHTING = "Fès <b onload=x>médina</b>"
BASE_LAYERS = {"sea", "foreign-land", "provinces", "regions"}
ZONE_LAYERS = {"exact-zone", "sent-polygon", "circles"}


def _ids(root: ET.Element) -> set[str]:
    return {e.attrib["id"] for e in root.iter() if "id" in e.attrib}


def _element(root: ET.Element, element_id: str) -> ET.Element:
    [found] = [e for e in root.iter() if e.attrib.get("id") == element_id]
    return found


def _points(path: ET.Element) -> list[tuple[float, float]]:
    """Every point of an SVG path written as ``M x,y L x,y … Z``."""
    points = []
    for token in path.attrib["d"].replace("M", " ").replace("L", " ").replace("Z", " ").split():
        x, y = token.split(",")
        points.append((float(x), float(y)))
    return points


def _texts(root: ET.Element, kind: str | None = None) -> list[str]:
    texts = root.iter(f"{SVG}text")
    return ["".join(t.itertext()) for t in texts if kind in (None, t.attrib.get("class"))]


def _lon_lat(geojson: dict[str, Any]) -> list[tuple[float, float]]:
    """The sent polygon's vertices in the order the SVG path draws them."""
    polygons = (
        geojson["coordinates"] if geojson["type"] == "MultiPolygon" else [geojson["coordinates"]]
    )
    return [(x, y) for polygon in polygons for ring in polygon for x, y in ring[:-1]]


def _check_scale_bar(root: ET.Element, sent: ET.Element, geojson: dict[str, Any]) -> None:
    """The bar's length in pixels times the ground distance of a pixel along the map's middle
    latitude, measured from the sent polygon's own vertices, is the length it is labelled."""
    pixels, degrees = _points(sent), _lon_lat(geojson)
    assert len(pixels) == len(degrees)
    west = min(range(len(degrees)), key=lambda i: degrees[i][0])
    east = max(range(len(degrees)), key=lambda i: degrees[i][0])
    south = min(range(len(degrees)), key=lambda i: degrees[i][1])
    north = max(range(len(degrees)), key=lambda i: degrees[i][1])
    px_per_lon = (pixels[east][0] - pixels[west][0]) / (degrees[east][0] - degrees[west][0])
    px_per_lat = (pixels[south][1] - pixels[north][1]) / (degrees[north][1] - degrees[south][1])
    # x = Δlon·cos(φ_mid)·s and y = Δlat·s: the ratio gives the middle latitude φ_mid.
    middle = math.degrees(math.acos(px_per_lon / px_per_lat))
    _, _, metres_per_lon = Geod(ellps="WGS84").inv(0.0, middle, 1.0, middle)
    km_per_px = metres_per_lon / 1000.0 / px_per_lon
    bar = _element(root, "scale-bar")
    km = float(bar.attrib["data-km"])
    assert abs(float(bar.attrib["data-px"]) * km_per_px - km) < 0.01 * km
    drawn = [r for r in bar.iter(f"{SVG}rect") if r.attrib.get("height") == "4"]
    assert abs(float(drawn[0].attrib["width"]) * km_per_px - km) < 0.01 * km
    assert f"{km:g} km" in _texts(bar)
    assert round(km / 10 ** math.floor(math.log10(km)), 9) in (1, 2, 5)  # a round length


async def _current(reader: httpx.AsyncClient, alert_id: str, sequence: int) -> dict[str, Any]:
    alert = await eventually(
        lambda: reader.get(f"/v1/alerts/{alert_id}"),
        lambda r: r.status_code == 200 and r.json()["sequence"] >= sequence,
    )
    current: dict[str, Any] = alert.json()["current"]
    assert current["sequence"] == sequence
    return current


async def _map(reader: httpx.AsyncClient, alert_id: str, sequence: int) -> ET.Element:
    response = await reader.get(f"/v1/alerts/{alert_id}/map.svg", params={"sequence": sequence})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert b"<script" not in response.content  # escaped: &lt;script&gt;
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert not list(root.iter(f"{SVG}script"))
    return root


async def test_each_version_of_an_alert_as_a_map(stack: Stack, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    body = report_body()
    # Seen in Tanger 2.5 h ago heading east by car: the reach (200 km) exceeds the floor, so
    # the piece is a corridor along the heading; Spain, across the strait, is on the map.
    body["last_seen"].update(
        location={"lat": 35.7595, "lon": -5.834},
        place_name=MARKUP_PLACE,
        at=(now - timedelta(hours=2.5)).isoformat(),
        heading_deg=90.0,
    )
    async with (
        stack.client("submitter") as police,
        stack.client("reviewer") as reviewer,
        stack.client("reader") as reader,
    ):
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        report = f"/v1/reports/{created.json()['id']}"
        approved = await reviewer.post(f"{report}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
        alert_id = approved.json()["alert_id"]
        versions = {1: await _current(reader, alert_id, 1)}

        sighting = {
            "place_name": MARKUP_SIGHTING,
            "location": {"lat": 34.0331, "lon": -5.0003},  # Fès, beyond Tanger's disk
            "at": (now - timedelta(minutes=10)).isoformat(),
            "trusted": True,
        }
        sighted = await police.post(f"{report}/sightings", json=sighting)
        assert sighted.status_code == 201, sighted.text
        versions[2] = await _current(reader, alert_id, 2)
        resolved = await police.post(f"{report}/resolve", json={})
        assert resolved.status_code == 200, resolved.text
        versions[3] = await _current(reader, alert_id, 3)

        maps = {n: await _map(reader, alert_id, n) for n in versions}
        latest = await reader.get(f"/v1/alerts/{alert_id}/map.svg")
        assert (
            latest.content
            == (await reader.get(f"/v1/alerts/{alert_id}/map.svg", params={"sequence": 3})).content
        )

    for sequence, root in maps.items():
        ET.ElementTree(root).write(tmp_path / f"map-{sequence}.svg", encoding="utf-8")
        current = versions[sequence]
        ids = _ids(root)
        assert BASE_LAYERS | ZONE_LAYERS | {"scale-bar", "title"} <= ids
        sent = _element(root, "sent-polygon")
        # Each vertex the API reports, drawn once (rings are closed by Z, not a repeat).
        assert len(_points(sent)) == current["area"]["vertex_count"]
        _check_scale_bar(root, sent, current["area"]["geojson"])
        title = _element(root, "title").text or ""
        assert f"version {sequence} ({current['msg_type']})" in title
        # The place of the newest location: the town there, not the markup typed beside the
        # point (a name that is no town never reaches a public page).
        assert ("Tanger" if sequence == 1 else "Fès") in title
        drawn = " ".join(root.itertext())
        assert "<script" not in drawn and "onload" not in drawn
        notes = " ".join(_texts(root, "note"))
        area = current["area"]
        assert f"land {area['overshoot_land_m']:g} m" in notes
        assert f"sea {area['overshoot_sea_m']:g} m" in notes
        assert f"targeting: {area['targeting']}" in notes
        assert "expires " in notes and "effective " in notes
        legend = _texts(root, "legend")
        assert {"sent polygon(s)", "exact zone (on the territory)", "sea"} <= set(legend)
        last_seen = [g for g in root.iter(f"{SVG}g") if g.attrib.get("class") == "last-seen"]
        sightings = [g for g in root.iter(f"{SVG}g") if g.attrib.get("class") == "sighting"]
        assert len(last_seen) == 1
        assert any("Tanger" in t for t in _texts(last_seen[0]))
        # The report's corridor stays in the zone's union after the sighting, and the Cancel
        # shows the area partners were showing: the Update's.
        assert "heading-corridor" in ids
        assert len(sightings) == (0 if sequence == 1 else 1)
        if sightings:
            assert any("Fès" in t for t in _texts(sightings[0]))
    assert versions[1]["msg_type"] == "Alert"
    assert versions[2]["msg_type"] == "Update"
    assert versions[3]["msg_type"] == "Cancel"
    # The Cancel repeats the Update's area: the same sent polygon, drawn the same.
    assert (
        _element(maps[3], "sent-polygon").attrib["d"]
        == _element(maps[2], "sent-polygon").attrib["d"]
    )
    assert shape(versions[2]["area"]["geojson"]).equals(shape(versions[3]["area"]["geojson"]))


async def test_a_version_picture_is_cached_by_its_etag(stack: Stack) -> None:
    async with (
        stack.client("submitter") as police,
        stack.client("reviewer") as reviewer,
        stack.client("reader") as reader,
    ):
        created = await police.post("/v1/reports", json=report_body())
        report = f"/v1/reports/{created.json()['id']}"
        approved = await reviewer.post(f"{report}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
        await _current(reader, alert_id, 1)
        url = f"/v1/alerts/{alert_id}/map.svg"
        first = await reader.get(url, params={"sequence": 1})
        current = await reader.get(url)
        etag = first.headers["etag"]
        again = await reader.get(url, params={"sequence": 1}, headers={"If-None-Match": etag})
        other = await reader.get(url, params={"sequence": 1}, headers={"If-None-Match": '"x"'})
        # The alert moves on (resolved: a Cancel is version 2): version 1 keeps its tag, the
        # current picture gets a new one.
        await police.post(f"{report}/resolve", json={})
        await _current(reader, alert_id, 2)
        later = await reader.get(url, params={"sequence": 1}, headers={"If-None-Match": etag})
        moved = await reader.get(url, headers={"If-None-Match": current.headers["etag"]})
    assert first.status_code == 200
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "private, max-age=31536000, immutable"
    # The current version moves on: cached, but revalidated each time.
    assert current.headers["cache-control"] == "private, no-cache"
    assert current.headers["etag"] == etag  # version 1 is the current one
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert other.status_code == 200 and other.content == first.content
    assert later.status_code == 304
    assert moved.status_code == 200 and moved.headers["etag"] != etag
    assert moved.content != first.content


async def test_map_errors_are_problems(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=report_body())
        report = f"/v1/reports/{created.json()['id']}"
        approved = await reviewer.post(f"{report}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
        # No alerts:read: the same scope as every alert read.
        refused = await police.get(f"/v1/alerts/{alert_id}/map.svg")
    assert refused.status_code == 403
    async with stack.client() as anonymous:
        assert (await anonymous.get(f"/v1/alerts/{alert_id}/map.svg")).status_code == 401
    async with stack.client("reader") as reader:
        await _current(reader, alert_id, 1)
        url = f"/v1/alerts/{alert_id}/map.svg"
        unknown = await reader.get("/v1/alerts/no-such-alert/map.svg")
        missing = await reader.get(url, params={"sequence": 9})
        zero = await reader.get(url, params={"sequence": 0})
        word = await reader.get(url, params={"sequence": "latest"})
    for response in (unknown, missing):
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_JSON
    assert "no version 9" in missing.json()["detail"]
    for response in (zero, word):
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
        assert [e["field"] for e in response.json()["errors"]] == ["query.sequence"]
