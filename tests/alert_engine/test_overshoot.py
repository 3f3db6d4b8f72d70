"""The overshoot's plane never understates a distance: checked against pyproj's geodesics."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from alert_engine.footprint import footprint
from alert_engine.overshoot import DistanceField, Measured
from alert_engine.stereographic import Stereographic
from alert_engine.territory import default_paths, load_territory
from shared.alert_contract import Point

GEOD = Geod(ellps="WGS84")
STEREA = (
    "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad"
    " +step +proj=sterea +lat_0={lat!r} +lon_0={lon!r} +ellps=WGS84"
)
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


def test_distances_to_the_zone_are_those_of_a_search_of_its_whole_boundary() -> None:
    # The field finds each point's nearest segment of Z's boundary through a grid: rings of
    # cells around the point, and every segment for a point far away. A direct distance to
    # the whole boundary must agree for points from a metre to 50 km away, by the dense
    # coast, Ceuta's border and the disk's arc, inside Z and out.
    territory = load_territory(*default_paths())
    center = Point(lon=-5.3684, lat=35.5785)  # Tetouan
    exact = footprint(center, 60.0, territory, 100).exact
    field = DistanceField(exact, center)
    rng = np.random.default_rng(11)
    n = 1500
    vertices = shapely.get_coordinates(shapely.boundary(exact))
    base = vertices[rng.integers(len(vertices), size=n)]
    offset_m = 10 ** rng.uniform(0.0, np.log10(50_000.0), n)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    lonlat_per_m = np.array([1 / (111_320.0 * np.cos(np.radians(center.lat))), 1 / 110_950.0])
    near = base + np.column_stack([np.cos(angle), np.sin(angle)]) * offset_m[:, None] * lonlat_per_m
    minx, miny, maxx, maxy = exact.bounds
    anywhere = np.column_stack(
        [rng.uniform(minx - 0.5, maxx + 0.5, n), rng.uniform(miny - 0.5, maxy + 0.5, n)]
    )
    points = field.project(np.concatenate([near, anywhere]))

    knots = field.nearest(points)

    # The boundary projected independently, densified more finely than the field's (its
    # chords are within ~0.1 m of the projected curve).
    dense = shapely.get_parts(shapely.segmentize(shapely.boundary(exact), 0.005))
    coords, index = shapely.get_coordinates(dense, return_index=True)
    boundary = shapely.multilinestrings(shapely.linestrings(field.project(coords), indices=index))
    expected = shapely.distance(boundary, shapely.points(points))
    assert np.abs(knots.f - expected).max() < 0.5
    assert np.allclose(np.hypot(*(points - knots.closest).T), knots.f)
    assert (expected > 10_000).sum() > 100 and (expected < 100).sum() > 300  # both searches ran


@pytest.mark.parametrize(
    "center", [*CENTRES, Point(lon=10.0, lat=60.0), Point(lon=-70.0, lat=-45.0)]
)
def test_the_plane_is_projs_sterea(center: Point) -> None:
    # The projection is computed by Tifli's own compiled loop (PROJ's pipeline costs more to
    # build per zone than the loop takes): it must be PROJ's, to a micrometre, 700 km out.
    rng = np.random.default_rng(5)
    lonlat = np.column_stack(
        [center.lon + rng.uniform(-7.0, 7.0, 3000), center.lat + rng.uniform(-6.0, 6.0, 3000)]
    )
    proj = Transformer.from_pipeline(STEREA.format(lat=center.lat, lon=center.lon))
    expected = np.column_stack(proj.transform(lonlat[:, 0], lonlat[:, 1]))

    projected = Stereographic.at(center.lon, center.lat).project(lonlat)

    assert np.abs(projected - expected).max() < 1e-6


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # shapely's, on NaN
def test_a_knot_without_finite_coordinates_is_refused_not_split_forever() -> None:
    field = DistanceField(shapely.box(0.0, 0.0, 0.01, 0.01), Point(lon=0.0, lat=0.0))
    line = shapely.LineString([(-0.01, -0.01), (float("nan"), 0.03)])
    with pytest.raises(ValueError, match="finite"):
        field.max_over([Measured(line, 5.0)])


@pytest.mark.parametrize(
    "lines",
    [
        # Short edges only: read as they are.
        shapely.MultiLineString(
            [[(0.0, 0.0), (0.01, 0.0), (0.01, 0.02)], [(1.0, 1.0), (1.0, 1.029)]]
        ),
        # An edge exactly the step long, one just over it, a repeated point.
        shapely.LineString([(0.0, 0.0), (0.03, 0.0), (0.03, 0.0300001)]),
        shapely.LineString([(0.0, 0.0), (0.0, 0.0300001)]),
        shapely.LineString([(0.0, 0.0), (0.01, 0.0), (0.01, 0.0), (0.02, 0.0)]),
        shapely.MultiLineString([[(0.0, 0.0), (0.5, 0.3)], [(1.0, 1.0), (1.0, 1.01)]]),
    ],
)
def test_lines_are_projected_as_segmentized(lines: shapely.Geometry) -> None:
    # Where segmentizing would add nothing the lines' own vertices are projected: the same
    # vertices, the same numbering of lines, as projecting what segmentizing gives.
    field = DistanceField(shapely.box(0.0, 0.0, 0.01, 0.01), Point(lon=0.0, lat=0.0))
    dense = shapely.get_parts(shapely.segmentize(lines, 0.03))
    coords, index = shapely.get_coordinates(dense, return_index=True)

    xy, line = field.project_lines(lines)

    assert np.array_equal(xy, field.project(coords))
    assert np.array_equal(line, index)
