"""GET /v1/alerts/{id}/versions/{n} over real HTTP: each version as partners received it."""

from __future__ import annotations

import shapely
from shapely.geometry import LinearRing, Point, shape

from alert_engine.composer import geojson_geometry
from alert_engine.exact_zone_routes import to_centimetres
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from tests.waiting import eventually


async def test_each_version_as_sent(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
        async with stack.client("reader") as reader:
            first = await eventually(
                lambda: reader.get(f"/v1/alerts/{alert_id}/versions/1"),
                lambda r: r.status_code != 404,
            )
            assert first.status_code == 200, first.text
            assert first.json()["msg_type"] == "Alert"
            assert first.json()["area"]["vertex_count"] > 3
            active = (await reader.get(f"/v1/alerts/{alert_id}")).json()
            # The next re-computation of the growing zone, within the alert's window.
            assert active["effective"] < active["next_widen_at"] < active["expires"]
            await police.post(f"/v1/reports/{report_id}/resolve", json={})
            alert = await eventually(
                lambda: reader.get(f"/v1/alerts/{alert_id}"),
                lambda r: r.json()["sequence"] == 2,
            )
            assert alert.json()["next_widen_at"] is None  # ended: it widens no more
            second = await reader.get(f"/v1/alerts/{alert_id}/versions/2")
            assert second.json() == alert.json()["current"]
            assert second.json()["msg_type"] == "Cancel"
            # An earlier version stays as it was sent.
            assert (await reader.get(f"/v1/alerts/{alert_id}/versions/1")).json() == first.json()

            missing = await reader.get(f"/v1/alerts/{alert_id}/versions/3")
            assert missing.status_code == 404
            assert missing.headers["content-type"].startswith("application/problem+json")
            bad = await reader.get(f"/v1/alerts/{alert_id}/versions/0")
            assert bad.status_code == 422
            assert bad.json()["errors"][0]["field"].endswith("sequence")
        refused = await police.get(f"/v1/alerts/{alert_id}/versions/1")
        assert refused.status_code == 403
    async with stack.client() as anonymous:
        assert (await anonymous.get(f"/v1/alerts/{alert_id}/versions/1")).status_code == 401


async def test_the_exact_zone_beside_the_polygon_sent(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
        async with stack.client("reader") as reader:
            answer = await eventually(
                lambda: reader.get(f"/v1/alerts/{alert_id}/exact-zone"),
                lambda r: r.status_code != 404,
            )
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("application/geo+json")
            sent = (await reader.get(f"/v1/alerts/{alert_id}")).json()["current"]["area"]
            missing = await reader.get(f"/v1/alerts/{alert_id}/exact-zone?sequence=2")
            assert missing.status_code == 404
        refused = await police.get(f"/v1/alerts/{alert_id}/exact-zone")
        assert refused.status_code == 403
    geometry = answer.json()["geometry"]
    exact = shape(geometry)
    polygon = shape(sent["geojson"])
    # RFC 7946 §3.1.6: exteriors counter-clockwise, holes clockwise (tools that rely on the
    # winding read a clockwise zone as the rest of the world); and no more decimals than use.
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    for exterior, *holes in polygons:
        assert LinearRing(exterior).is_ccw
        assert not any(LinearRing(hole).is_ccw for hole in holes)
    assert all(
        round(value, 7) == value
        for rings in polygons
        for ring in rings
        for point in ring
        for value in point
    )
    assert answer.json()["properties"] == {
        "alert_id": alert_id,
        "sequence": 1,
        "from_circles": False,
    }
    # The polygon sent covers the exact zone (to rounding), and overshoots it a little.
    assert exact.difference(polygon).area < 1e-6 * exact.area
    assert polygon.area > exact.area
    assert exact.contains(Point(-7.5898, 33.5731))  # the last-seen point


def test_a_sliver_finer_than_the_exact_zones_centimetre_is_left_out() -> None:
    """Rounded to 7 decimals, a hole or an islet of the coast narrower than that collapses:
    left out, the zone stays valid (rounding each point alone made a ring of too few points,
    and the route a server error)."""
    outer = shapely.box(-5.0, 35.0, -4.9, 35.1)
    hole = shapely.box(-4.95, 35.05, -4.95 + 3e-8, 35.05 + 3e-8)
    islet = shapely.box(-4.8, 35.0, -4.8 + 2e-8, 35.0 + 2e-8)
    zone = shapely.MultiPolygon([shapely.Polygon(outer.exterior, [hole.exterior]), islet])
    rounded = to_centimetres(zone)
    assert rounded.is_valid
    assert shapely.get_num_interior_rings(shapely.get_parts(rounded)).sum() == 0
    geometry = geojson_geometry(rounded)
    assert geometry["type"] == "Polygon"
    assert shape(geometry).equals(outer)
