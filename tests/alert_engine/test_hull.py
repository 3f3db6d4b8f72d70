"""The zone's convex hull, filtered and walked compiled: the polygon GEOS draws from every point,
up to rounding."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from alert_engine.footprint import _support, footprint
from alert_engine.hull import CLOSE, INSIDE, OUTSIDE, hull_ring, locate_in_hull, with_normals
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


# --- a point in the hull ----------------------------------------------------------------------


def _assert_geos_answers(ring: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``locate_in_hull``'s verdicts, each decided one checked against GEOS's point test."""
    verdict = locate_in_hull(ring, x, y)
    decided = verdict != CLOSE
    geos = shapely.contains_xy(shapely.Polygon(ring), x, y)
    assert np.array_equal(verdict[decided] == INSIDE, geos[decided])
    assert set(np.unique(verdict).tolist()) <= {OUTSIDE, INSIDE, CLOSE}
    return verdict


def _awkward_points(ring: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the ring's bounds and beyond, its vertices, points on its edges and
    a hair either side of them, its vertices' mean and points along the rays from it through
    the vertices (where the fan's wedges meet)."""
    low, high = ring.min(axis=0), ring.max(axis=0)
    spread = rng.uniform(low - (high - low) * 0.2, high + (high - low) * 0.2, (4000, 2))
    following = np.roll(ring, -1, axis=0)
    t = rng.uniform(0.0, 1.0, (len(ring), 1))
    on_edges = ring + (following - ring) * t
    edge = following - ring
    normal = np.column_stack([-edge[:, 1], edge[:, 0]])
    hair = [on_edges + normal * s for s in (1e-14, -1e-14, 1e-9, -1e-9)]
    center = ring.mean(axis=0)
    rays = [center + (ring - center) * s for s in (0.5, 1.0 - 1e-15, 1.0 + 1e-15, 1.5)]
    points = np.concatenate([spread, ring, on_edges, *hair, center[None, :], *rays])
    return points[:, 0].copy(), points[:, 1].copy()


def test_a_point_in_the_hull_is_placed_as_geos_places_it(territory: Territory) -> None:
    rng = np.random.default_rng(5)
    decided = 0
    for center, radius_km in _zones(territory)[:12]:
        exact = footprint(center, radius_km, territory, 100).exact
        plane = LocalPlane.at(center)
        ring = plane.lonlat(hull_ring(plane.xy(shapely.get_coordinates(exact))))
        x, y = _awkward_points(ring, rng)
        verdict = _assert_geos_answers(ring, x, y)
        decided += int(np.sum(verdict != CLOSE))
        # Only points within rounding of an edge or a ray are left to GEOS.
        assert np.mean(verdict[:4000] == CLOSE) < 0.01
    assert decided > 12 * 4000 * 0.9


def test_a_ring_not_clearly_star_shaped_is_left_to_geos() -> None:
    rng = np.random.default_rng(9)
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    x, y = _awkward_points(square, rng)
    assert np.mean(_assert_geos_answers(square, x, y) != CLOSE) > 0.8
    # Clockwise, twice round, and a notch that hides part of the ring from its centre.
    clockwise = square[::-1].copy()
    twice = np.concatenate([square, square])
    notch = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.6, 1.0], [0.5, 0.1], [0.4, 1.0]])
    notch = np.concatenate([notch, [[0.0, 1.0]]])
    for ring in (clockwise, twice, notch):
        x, y = _awkward_points(ring, rng)
        assert (locate_in_hull(ring, x, y) == CLOSE).all()
    # A star-shaped ring that is not convex: still decided, and as GEOS decides.
    angles, radii = np.linspace(0.0, 6.2, 10), np.tile([1.0, 0.4], 5)
    star = np.column_stack([np.cos(angles) * radii, np.sin(angles) * radii])
    x, y = _awkward_points(star, rng)
    assert np.mean(_assert_geos_answers(star, x, y) != CLOSE) > 0.8


def test_the_normals_are_numpys_unwrapped_edge_angles(territory: Territory) -> None:
    # The compiled pass must give what the array operations it replaced give, up to the last
    # bit of an arctangent (libm's and numpy's differ there): the tangents touch the hull
    # where they did. Repeated points (their edge has no normal) are dropped first; the
    # zones' hulls start anywhere on the ring, so the angles cross ±π and are unwrapped.
    theta = np.linspace(0.0, 2 * np.pi, 7200, endpoint=False)
    for center, radius_km in _zones(territory)[:12]:
        exact = footprint(center, radius_km, territory, 100).exact
        plane = LocalPlane.at(center)
        ring = hull_ring(plane.xy(shapely.get_coordinates(exact)))
        ring = np.insert(ring, [1, len(ring) // 2], ring[[1, len(ring) // 2]], axis=0)
        edges = np.roll(ring, -1, axis=0) - ring
        kept = ring[np.hypot(*edges.T) > 1e-6]
        kept_edges = np.roll(kept, -1, axis=0) - kept
        normals = np.unwrap(np.arctan2(-kept_edges[:, 0], kept_edges[:, 1]))
        vertices, compiled_normals, size = with_normals(ring)
        assert len(vertices) == len(ring) - 2
        assert np.array_equal(vertices, kept)
        assert np.abs(compiled_normals - normals).max() < 1e-12
        assert normals.max() - normals.min() > np.pi  # the unwrapping was needed
        assert size == float(np.hypot(*kept.T).max())
        touched = _support(kept, compiled_normals, theta)[1]
        assert np.array_equal(touched, _support(kept, normals, theta)[1])
