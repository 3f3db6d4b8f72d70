"""The zone's convex hull, filtered and walked compiled: the polygon GEOS draws from every point,
up to rounding."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from alert_engine.footprint import footprint
from alert_engine.hull import hull_ring
from alert_engine.local_plane import LocalPlane
from alert_engine.territory import Territory, default_paths, load_territory
from shared.alert_contract import Point

# Zones along the coast, the enclaves and the long straight land borders (Algeria by Figuig,
# Mauritania by Guerguerat), where hull vertices sit nearly in line, and 40 anywhere.
PLACES = [(-5.3684, 35.5785), (-2.9335, 35.1681), (-1.2286, 32.1093), (-16.9453, 21.3769)]


@pytest.fixture(scope="module")
def territory() -> Territory:
    return load_territory(*default_paths())


def _zones(territory: Territory) -> list[tuple[Point, float]]:
    rng = np.random.default_rng(17)
    minx, miny, maxx, maxy = territory.national.bounds
    lon, lat = rng.uniform(minx, maxx, 400), rng.uniform(miny, maxy, 400)
    inside = shapely.contains_xy(territory.national, lon, lat)
    anywhere = [(float(x), float(y)) for x, y in zip(lon[inside], lat[inside], strict=True)]
    spots = PLACES + anywhere[:40]
    radii = [60.0, 160.0, 320.0, 160.0, *rng.uniform(5.0, 500.0, len(spots) - 4)]
    return [(Point(lon=x, lat=y), float(r)) for (x, y), r in zip(spots, radii, strict=True)]


def _assert_geos_hull(points: np.ndarray) -> None:
    ring = hull_ring(points)
    expected = shapely.convex_hull(shapely.multipoints(points))
    drawn = shapely.Polygon(ring)
    assert drawn.is_valid
    assert drawn.exterior.is_ccw
    # Every vertex is one of the points, and the polygon is GEOS's up to rounding.
    given = {tuple(p) for p in points.tolist()}
    assert all(tuple(v) in given for v in ring.tolist())
    assert shapely.symmetric_difference(drawn, expected).area <= 1e-12 * expected.area
    # No vertex where the ring runs straight.
    edges = np.roll(ring, -1, axis=0) - ring
    turns = (
        edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1]
        - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    )
    assert (turns > 0).all()


def test_the_hull_is_the_one_geos_draws_from_every_point(territory: Territory) -> None:
    compared = 0
    for center, radius_km in _zones(territory):
        exact = footprint(center, radius_km, territory, 100).exact
        points = LocalPlane.at(center).xy(shapely.get_coordinates(exact))
        _assert_geos_hull(points)
        compared += len(points) >= 1000
    assert compared >= 10  # many were large enough to be filtered


def test_a_few_points_points_in_line_and_repeated_points() -> None:
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    _assert_geos_hull(square)
    on_edges = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]])
    _assert_geos_hull(on_edges)
    rng = np.random.default_rng(3)
    cloud = rng.normal(size=(3000, 2))
    _assert_geos_hull(np.concatenate([cloud, cloud[:500]]))
