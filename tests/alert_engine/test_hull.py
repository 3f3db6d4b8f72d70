"""The zone's convex hull, filtered before GEOS sorts it: the very polygon GEOS gives unfiltered."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from alert_engine.footprint import footprint
from alert_engine.hull import convex_hull
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


def test_the_hull_is_the_one_geos_draws_from_every_point(territory: Territory) -> None:
    compared = 0
    for center, radius_km in _zones(territory):
        exact = footprint(center, radius_km, territory, 100).exact
        in_plane = LocalPlane.at(center).to_plane(exact)

        hull = convex_hull(in_plane)

        expected = shapely.convex_hull(in_plane)
        assert np.array_equal(shapely.get_coordinates(hull), shapely.get_coordinates(expected))
        compared += shapely.get_num_coordinates(in_plane) >= 1000
    assert compared >= 10  # many were large enough to be filtered


def test_a_few_points_and_a_line_are_their_own_hull() -> None:
    square = shapely.box(0.0, 0.0, 1.0, 1.0)
    assert shapely.equals(convex_hull(square), square)
    line = shapely.LineString([(float(i), 2.0 * i) for i in range(200)])
    assert shapely.equals(convex_hull(line), shapely.convex_hull(line))
