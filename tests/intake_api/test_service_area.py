"""The service area: the territory and about 50 km around it. A point just across a border
or off the coast is a case (a child seen there); one farther is refused, naming the field.
The shipped area is what the data build draws from the shipped regions, and reaches as far as
it says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from alert_engine.territory import default_paths, load_territory
from deploy.geodata.service_area import REACH_KM, service_area
from intake_api.service_area import DEFAULT_AREA_FILE, load_area
from services.testbed.sample_report import report_body
from services.testbed.stack import Stack

NEAR = {
    "Ceuta": (35.889, -5.316),
    "Tlemcen, 30 km into Algeria": (34.88, -1.31),
    "20 km off Casablanca": (33.70, -7.75),
    "Nouadhibou, across from Lagouira": (20.94, -17.04),
}


@pytest.mark.parametrize("where", NEAR)
async def test_a_point_just_across_a_border_or_off_the_coast_is_a_case(
    stack: Stack, where: str
) -> None:
    lat, lon = NEAR[where]
    body = report_body()
    body["last_seen"]["location"] = {"lat": lat, "lon": lon}
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        sighting = {
            "location": {"lat": 35.697, "lon": -0.633},  # Oran: 150 km into Algeria
            "at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "trusted": True,
        }
        refused = await police.post(f"/v1/reports/{created.json()['id']}/sightings", json=sighting)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["location"]
    assert "about 50 km" in refused.json()["detail"]


def test_the_shipped_area_is_the_one_the_build_draws() -> None:
    drawn = service_area(load_territory(default_paths()[0]).national)
    shipped = load_area(DEFAULT_AREA_FILE)
    assert json.loads(DEFAULT_AREA_FILE.read_text())["properties"]["reach_km"] == REACH_KM
    assert shapely.equals_exact(drawn, shapely.from_wkb(shapely.to_wkb(shipped)), 1e-9)


def test_the_area_holds_the_territory_and_reaches_about_50_km_beyond() -> None:
    national = load_territory(default_paths()[0]).national
    area = load_area(DEFAULT_AREA_FILE)
    assert shapely.covers(area, national)
    # Its border, measured from the territory in metres (a conformal plane at each point).
    border = shapely.get_coordinates(shapely.segmentize(shapely.boundary(area), 0.2))
    for lon, lat in border[:: max(len(border) // 60, 1)]:
        plane = Transformer.from_crs(
            "EPSG:4326", f"+proj=sterea +lat_0={lat} +lon_0={lon} +ellps=WGS84", always_xy=True
        )
        near = shapely.clip_by_rect(national, lon - 1.5, lat - 1.5, lon + 1.5, lat + 1.5)
        shell = shapely.get_coordinates(shapely.segmentize(shapely.boundary(near), 0.005))
        x, y = plane.transform(shell[:, 0], shell[:, 1])
        distance_km = float(np.hypot(x, y).min()) / 1000
        assert REACH_KM - 2.0 <= distance_km <= REACH_KM + 1.0, (lon, lat, distance_km)


async def test_the_area_is_served_with_the_words_a_point_outside_is_refused_with(
    stack: Stack,
) -> None:
    """A client draws the area where a point is placed (the console's new-case map), and
    knows what the API will say of a point beyond it, before sending anything."""
    body = report_body()
    body["last_seen"]["location"] = {"lat": 35.697, "lon": -0.633}  # Oran
    async with stack.client("submitter") as police:
        served = await police.get("/v1/map/service-area")
        refused = await police.post("/v1/reports", json=body)
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "application/geo+json"
    feature = served.json()
    area = shape(feature["geometry"])
    assert area.contains(shapely.Point(-7.5898, 33.5731))  # Casablanca
    assert not area.contains(shapely.Point(-0.633, 35.697))
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert feature["properties"]["refusal"] == error["message"]
    async with stack.client() as anonymous:
        assert (await anonymous.get("/v1/map/service-area")).status_code == 401
