"""Land too far from the zone, found near given points: distances checked with pyproj."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

from alert_engine.far_land import WINDOW_M, far_land_near

GEOD = Geod(ellps="WGS84")
EDGE = (-3.65, 31.12)  # a point on the zone's eastern edge


def east_of_edge(metres: float, north_m: float = 0.0) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(EDGE[0], EDGE[1], 90.0, metres)
    if north_m:
        lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return float(lon), float(lat)


def test_only_land_beyond_the_kept_distance_near_the_points_is_far() -> None:
    zone = shapely.box(EDGE[0] - 0.05, EDGE[1] - 0.05, EDGE[0], EDGE[1] + 0.05)
    land = shapely.box(EDGE[0] - 0.2, EDGE[1] - 0.2, EDGE[0] + 0.2, EDGE[1] + 0.2)
    found = np.array([east_of_edge(400.0)])
    far = far_land_near(found, zone, land, keep_m=140.0)
    assert not shapely.intersects(far, zone)
    for metres, is_far in ((100.0, False), (135.0, False), (150.0, True), (600.0, True)):
        assert shapely.contains_xy(far, *east_of_edge(metres)) == is_far, metres
    # Beyond the window around the point found, nothing is cut.
    assert shapely.contains_xy(far, *east_of_edge(400.0, north_m=0.9 * WINDOW_M))
    assert not shapely.contains_xy(far, *east_of_edge(400.0, north_m=1.2 * WINDOW_M))
    # Nor is the sea: only land is ever far land.
    islet = shapely.difference(land, shapely.Point(east_of_edge(600.0)).buffer(0.002))
    assert not shapely.contains_xy(
        far_land_near(found, zone, islet, keep_m=140.0), *east_of_edge(600.0)
    )


def test_nothing_found_cuts_nothing() -> None:
    zone = shapely.box(0.0, 0.0, 1.0, 1.0)
    assert far_land_near(np.zeros((0, 2)), zone, zone, keep_m=140.0).is_empty
