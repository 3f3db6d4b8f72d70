from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point as ShapelyPoint

from alert_engine.composer import geojson_geometry
from alert_engine.footprint import vertex_count
from alert_engine.geodesy import geodesic_disk
from alert_engine.zone_policy import ZonePolicy, radius_km
from shared.alert_contract import Point

POLICY = ZonePolicy()
SEEN = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize(
    ("mode", "hours", "expected"),
    [
        ("foot", 1, 160.0),  # 5 km: the floor
        ("vehicle", 1, 160.0),  # 80 km: still the floor
        ("vehicle", 3, 240.0),
        ("public_transport", 4, 240.0),
        ("unknown", 5, 400.0),  # unknown travels as a vehicle
        ("foot", 48, 240.0),
        ("vehicle", 100, 2000.0),  # the national cap
    ],
)
def test_radius_formula(mode: str, hours: float, expected: float) -> None:
    at = SEEN + timedelta(hours=hours)
    assert radius_km(POLICY, mode, SEEN, at) == pytest.approx(expected)  # type: ignore[arg-type]


def test_radius_never_shrinks_below_floor_for_future_last_seen() -> None:
    assert radius_km(POLICY, "vehicle", SEEN, SEEN - timedelta(hours=1)) == 160.0


def _boundary_distances(lat: float, lon: float, polygon: object, samples: int = 20) -> np.ndarray:
    ring = np.asarray(polygon.exterior.coords)  # type: ignore[attr-defined]
    t = np.linspace(0, 1, samples, endpoint=False)
    pts = (ring[:-1, None, :] + (ring[1:] - ring[:-1])[:, None, :] * t[None, :, None]).reshape(
        -1, 2
    )
    _, _, d = GEOD.inv(np.full(len(pts), lon), np.full(len(pts), lat), pts[:, 0], pts[:, 1])
    return np.asarray(d)


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(15, 40),  # Morocco and its surroundings, where zones are drawn
    lon=st.floats(-20, 0),
    radius=st.floats(1, 2000),
    vertices=st.integers(16, 500),
)
def test_polygon_covers_the_geodesic_disk(
    lat: float, lon: float, radius: float, vertices: int
) -> None:
    zone = geodesic_disk(Point(lat=lat, lon=lon), radius * 1000, vertices)
    assert zone.polygon.is_valid
    assert vertex_count(zone.polygon) == vertices
    assert zone.polygon.contains(ShapelyPoint(lon, lat))
    distances = _boundary_distances(lat, lon, zone.polygon)
    # Every point of the boundary lies outside the disk (so the disk is inside) ...
    assert distances.min() >= radius * 1000 * (1 - 1e-9)
    # ... and no farther out than the reported overshoot.
    assert distances.max() <= radius * 1000 + zone.overshoot_m + 1e-6


@pytest.mark.parametrize("vertices", [16, 17, 890])
def test_every_corner_is_as_far_from_the_centre_west_as_east(vertices: int) -> None:
    # The west half is the east half mirrored: each corner must still be a geodesic's end.
    lat, lon = 34.03, -5.0
    zone = geodesic_disk(Point(lat=lat, lon=lon), 160_000, vertices)
    ring = np.asarray(zone.polygon.exterior.coords)[:-1]
    _, _, d = GEOD.inv(np.full(len(ring), lon), np.full(len(ring), lat), ring[:, 0], ring[:, 1])
    assert np.ptp(d) < 1e-6
    assert d[0] == pytest.approx(160_000 + zone.overshoot_m, abs=1e-6)
    assert len(np.unique(np.round(ring, 9), axis=0)) == vertices  # none twice, none missing


def test_a_disk_across_the_antimeridian_is_refused() -> None:
    with pytest.raises(ValueError, match="antimeridian"):
        geodesic_disk(Point(lat=69.0, lon=170.0), 1_000_000, 100)


def test_geodesic_radius_is_metres_at_any_latitude() -> None:
    for lat in (0.0, 35.0, 60.0):
        zone = geodesic_disk(Point(lat=lat, lon=-6.0), 160_000, 100)
        distances = _boundary_distances(lat, -6.0, zone.polygon)
        assert distances.min() == pytest.approx(160_000, rel=1e-3)
        # In degrees the circle is wider at high latitude; in metres it is not.
        minx, _, maxx, _ = zone.polygon.bounds
        assert (maxx - minx) > 2 * 160 / 111.32 * 0.99


def test_overshoot_shrinks_with_the_vertex_budget() -> None:
    centre = Point(lat=31.63, lon=-8.0)
    overshoots = [geodesic_disk(centre, 160_000, n).overshoot_m for n in (16, 50, 100, 400)]
    assert overshoots == sorted(overshoots, reverse=True)
    assert overshoots[2] < 161  # 100 vertices meet the WEA 0.1-mile rule for a bare circle


def test_geojson_ring_is_closed_and_counter_clockwise() -> None:
    geometry = geojson_geometry(geodesic_disk(Point(lat=33.57, lon=-7.59), 160_000, 100).polygon)
    ring = geometry["coordinates"][0]
    assert geometry["type"] == "Polygon"
    assert ring[0] == ring[-1]
    area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))
    assert area2 > 0  # positive shoelace: counter-clockwise
