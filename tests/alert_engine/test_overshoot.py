"""The overshoot's plane never understates a distance: checked against pyproj's geodesics."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from alert_engine.overshoot import DistanceField
from shared.alert_contract import Point

GEOD = Geod(ellps="WGS84")
CENTRES = [Point(lon=-7.59, lat=33.57), Point(lon=-13.2, lat=27.15), Point(lon=-17.0, lat=21.0)]


@pytest.mark.parametrize("center", CENTRES)
def test_distances_in_the_plane_bound_the_geodesic_ones_closely(center: Point) -> None:
    # Pairs from 1 m to 50 km apart, anywhere within about 600 km of the centre: the plane's
    # scale is at least 1 everywhere (a distance there is an upper bound of the true one)
    # and at most 1.005 that far out (it overstates by no more).
    rng = np.random.default_rng(7)
    n = 2000
    lon = center.lon + rng.uniform(-6.0, 6.0, n)
    lat = center.lat + rng.uniform(-5.0, 5.0, n)
    azimuth = rng.uniform(0.0, 360.0, n)
    length = 10 ** rng.uniform(0.0, np.log10(50_000.0), n)
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, length)
    field = DistanceField(
        shapely.box(center.lon, center.lat, center.lon + 0.1, center.lat + 0.1), center
    )
    a = field.project(np.column_stack([lon, lat]))
    b = field.project(np.column_stack([lon2, lat2]))
    ratio = np.hypot(*(b - a).T) / length
    assert ratio.min() >= 1.0 - 1e-9
    assert ratio.max() <= 1.005
