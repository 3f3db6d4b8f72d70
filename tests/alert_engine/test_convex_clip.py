"""The territory clipped to a convex zone without the general overlay: the region GEOS's overlay
gives, valid, or None where the general overlay must decide."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.convex_clip import ClipRings, clip_to_convex
from alert_engine.footprint import polygonal
from alert_engine.geodesy import geodesic_disk
from alert_engine.territory import Territory, default_paths, load_territory
from shared.alert_contract import Point

# The enclaves, the islets off Al Hoceima, the straight borders at Figuig and Guerguerat.
PLACES = [
    (-5.3684, 35.5785),
    (-2.9335, 35.1681),
    (-3.9372, 35.2517),
    (-1.2286, 32.1093),
    (-16.9453, 21.3769),
    (-5.0003, 34.0331),
]


@pytest.fixture(scope="module")
def territory() -> Territory:
    return load_territory(*default_paths())


def _overlay(region: BaseGeometry, convex: shapely.Polygon) -> BaseGeometry:
    return polygonal(shapely.intersection(convex, region))


def _assert_same_region(clipped: BaseGeometry, expected: BaseGeometry) -> None:
    assert clipped.is_valid, shapely.is_valid_reason(clipped)
    assert clipped.geom_type in ("Polygon", "MultiPolygon")
    difference = shapely.symmetric_difference(clipped, expected).area
    assert difference <= 1e-12 * max(expected.area, 1e-9)
    assert len(shapely.get_parts(clipped)) == len(shapely.get_parts(expected))


def test_zones_of_the_territory_are_the_overlays_region(territory: Territory) -> None:
    rng = np.random.default_rng(29)
    minx, miny, maxx, maxy = territory.national.bounds
    lon, lat = rng.uniform(minx - 1, maxx + 1, 300), rng.uniform(miny - 1, maxy + 1, 300)
    spots = [(x, y, r) for x, y in PLACES for r in (5.0, 30.0, 160.0, 450.0)]
    radii = rng.uniform(5.0, 500.0, 300)
    spots += [(float(x), float(y), float(r)) for x, y, r in zip(lon, lat, radii, strict=True)]
    compared = handed_back = 0
    for x, y, radius_km in spots:
        disk = geodesic_disk(Point(lon=x, lat=y), radius_km * 1000.0).polygon
        if shapely.contains(territory.national, disk):
            continue  # the caller's own shortcut
        clipped = clip_to_convex(territory.national_rings, disk)
        if clipped is None:
            handed_back += 1
            continue
        _assert_same_region(clipped, _overlay(territory.national, disk))
        compared += 1
    # Only a hole crossing the zone's edge is handed back, and the territory has few.
    assert compared >= 250
    assert handed_back <= 5


SQUARE = shapely.box(0.0, 0.0, 10.0, 10.0)


def _octagon(x: float, y: float, r: float) -> shapely.Polygon:
    return shapely.Point(x, y).buffer(r, quad_segs=2)


@pytest.mark.parametrize(
    ("region", "convex"),
    [
        # A coast crossing the zone, the region's ring clockwise.
        (shapely.Polygon(list(SQUARE.exterior.coords)[::-1]), _octagon(10.3, 5.1, 3.0)),
        # A hole inside the zone stays a hole.
        (shapely.Polygon(SQUARE.exterior, [_octagon(8.0, 5.0, 0.5).exterior]), _octagon(9, 5, 3)),
        # A hole in an island inside the zone, and a shell crossing it.
        (
            shapely.MultiPolygon(
                [
                    shapely.Polygon(SQUARE.exterior, [_octagon(5.0, 5.0, 0.5).exterior]),
                    shapely.box(11.0, 0.0, 20.0, 10.0),
                ]
            ),
            _octagon(6.0, 5.0, 5.7),
        ),
        # An edge cutting across a corner of the zone, both its ends outside.
        (shapely.Polygon([(0, 0), (10, 0), (10, 10), (2.5, 10), (0, 7)]), shapely.box(1, 1, 9, 9)),
        # A bite out of the zone through one of its edges: around all its corners between.
        (
            shapely.Polygon([(-5, -5), (4, -5), (4, 3), (6, 3), (6, -5), (15, -5), (15, 15),
                             (-5, 15)]),
            shapely.box(0.0, 0.0, 10.0, 10.0),
        ),
        # Nothing of the region in the zone.
        (SQUARE, _octagon(30.0, 30.0, 2.0)),
        # Several crossings of one zone's edge, between two of its corners.
        (
            shapely.Polygon([(0, 0), (4, 0), (4, 11), (5, 11), (5, 0), (6, 0), (6, 11), (7, 11),
                             (7, -1), (0, -1)]),
            shapely.box(-1.0, -0.5, 10.0, 10.0),
        ),
    ],
)  # fmt: skip
def test_crossings_holes_and_islands_are_the_overlays(
    region: BaseGeometry, convex: shapely.Polygon
) -> None:
    clipped = clip_to_convex(ClipRings.of(region), convex)
    assert clipped is not None
    _assert_same_region(clipped, _overlay(region, convex))


@pytest.mark.parametrize(
    ("region", "convex", "why"),
    [
        (SQUARE, _octagon(5.0, 5.0, 2.0), "the zone inside the region, nothing crossing"),
        (SQUARE, shapely.box(10.0, 2.0, 12.0, 4.0), "an edge along the zone's edge"),
        (SQUARE, shapely.Polygon([(7, 5), (10, 2), (13, 5), (10, 8)]), "a zone corner on an edge"),
        (
            shapely.Polygon(SQUARE.exterior, [_octagon(9.0, 5.0, 0.5).exterior]),
            _octagon(10.0, 5.0, 1.0),
            "a hole across the zone's edge",
        ),
        (SQUARE, shapely.Polygon([(8, 5), (12, 2), (11, 5), (12, 8)]), "a zone not convex"),
    ],
)
def test_what_it_cannot_settle_plainly_is_handed_back(
    region: BaseGeometry, convex: shapely.Polygon, why: str
) -> None:
    assert clip_to_convex(ClipRings.of(region), convex) is None, why


def test_a_coast_grazing_a_corner_of_the_zone_is_the_overlays_region(
    territory: Territory,
) -> None:
    # Found from outside: a coast edge passing a hair from the disk's north corner left a
    # sliver rounded flat, an invalid ring in the exact zone (and 225 m of overshoot).
    center = Point(lon=-6.152961166714138, lat=35.01790789342663)
    disk = geodesic_disk(center, 20589.692979236017).polygon
    clipped = clip_to_convex(territory.national_rings, disk)
    if clipped is not None:
        _assert_same_region(clipped, _overlay(territory.national, disk))


@pytest.mark.parametrize("miss", [1e-6, 1e-9, 1e-11, 1e-13, 1e-15, 0.0])
@pytest.mark.parametrize("side", [1.0, -1.0])
def test_an_edge_passing_a_hair_from_a_corner_is_the_overlays_region(
    miss: float, side: float
) -> None:
    # The edge x + y = 20 + miss·side runs past the window's corner (10, 10).
    offset = miss * side
    region = shapely.Polygon(
        [(-30, -30), (30, -30), (30, -10 + offset), (-10 + offset, 30), (-30, 30)]
    )
    clipped = clip_to_convex(ClipRings.of(region), SQUARE)
    if clipped is not None:
        _assert_same_region(clipped, _overlay(region, SQUARE))


@pytest.mark.parametrize(
    "region",
    [
        # An edge past a corner by rounding, crossing nothing found: the corner's side decides.
        shapely.Polygon([(12.192880012368594, -29.939845733945376),
                         (7.807119987631407, 49.939845733945376),
                         (-29.939845733945376, 7.807119987631404)]),
        # A crossing a rounding short of a corner: its edge would be read as the next one.
        shapely.Polygon([(38.694243635980904, -17.868268373886625),
                         (-18.694243635980904, 37.86826837388662),
                         (-17.86826837388662, -18.694243635980907)]),
        # A slit 2e-9 deep: two crossings closer than their order can be told.
        shapely.Polygon([(-5, -5), (15, -5), (15, 15), (0.5 + 1e-7, 15), (0.5, 10 - 2e-9),
                         (0.5 - 1e-7, 15), (-5, 15)]),
    ],
)  # fmt: skip
def test_rounding_at_the_zones_edge_never_gives_another_region(region: BaseGeometry) -> None:
    # Found from outside: these gave an empty zone, a flat ring and nearly the complement.
    clipped = clip_to_convex(ClipRings.of(region), SQUARE)
    if clipped is not None:
        _assert_same_region(clipped, _overlay(region, SQUARE))
