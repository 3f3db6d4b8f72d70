"""Cutting a polygon over the vertex budget along its own diagonals."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.polygon import orient

from alert_engine.diagonal_cuts import _SHRINK, _inside_spans, fewest_parts, peel_to_fit
from alert_engine.grid_cuts import split_to_fit, vertex_count


def wiggly_disk(vertices: int, wiggle: float = 0.02) -> shapely.Polygon:
    """A disk of radius 1° whose edge wiggles: a zone's edge along a winding border."""
    angle = np.linspace(0.0, 2 * math.pi, vertices, endpoint=False)
    radius = 1.0 + wiggle * np.sin(37 * angle) + wiggle * np.cos(11 * angle)
    return shapely.Polygon(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))


def test_parts_tile_the_polygon_with_no_new_vertex() -> None:
    polygon = wiggly_disk(1_000)
    parts = peel_to_fit(polygon, 100)
    assert parts is not None
    assert all(p.is_valid and not p.interiors and vertex_count(p) <= 100 for p in parts)
    # They tile it: no gap, no overlap.
    assert shapely.equals(shapely.union_all(parts), polygon)
    assert math.isclose(sum(p.area for p in parts), polygon.area, rel_tol=1e-9)
    # Every vertex of every part is one of the polygon's own (a diagonal adds none).
    own = {tuple(xy) for xy in shapely.get_coordinates(polygon).tolist()}
    assert all(tuple(xy) in own for p in parts for xy in shapely.get_coordinates(p).tolist())
    # About N / (budget − 2) parts: 1,000 vertices in 11, where grid lines take more.
    assert len(parts) <= math.ceil(1_000 / 97) + 1
    assert len(parts) < len(split_to_fit(polygon, 100))


def test_a_polygon_within_the_budget_is_one_part() -> None:
    polygon = wiggly_disk(90)
    assert peel_to_fit(polygon, 100) == [polygon]


def test_a_polygon_with_a_hole_is_left_to_other_cuts() -> None:
    ring = wiggly_disk(400)
    holed = shapely.Polygon(ring.exterior, [shapely.Point(0, 0).buffer(0.2).exterior])
    assert peel_to_fit(holed, 100) is None


def test_a_comb_is_cut_between_its_teeth() -> None:
    # Teeth that no long diagonal can cross: parts still fit and tile.
    teeth = []
    for i in range(60):
        x = i * 1.0
        teeth += [(x, 0.0), (x, 10.0), (x + 0.5, 10.0), (x + 0.5, 0.2)]
    polygon = shapely.Polygon([*teeth, (60.0, 0.2), (60.0, -1.0), (0.0, -1.0)])
    assert polygon.is_valid
    parts = peel_to_fit(polygon, 20)
    assert parts is not None
    assert all(p.is_valid and vertex_count(p) <= 20 for p in parts)
    assert math.isclose(sum(p.area for p in parts), polygon.area, rel_tol=1e-9)
    assert shapely.equals(shapely.union_all(parts), polygon)


def test_the_last_cut_shares_what_is_left_with_no_sliver() -> None:
    # The longest diagonal on the last cut would leave a part of a few vertices beside a full
    # one (one vertex over the budget: a triangle); an even cut leaves two halves, in as few
    # parts.
    for vertices, budget in ((101, 100), (1_000, 100), (250, 100), (75, 20)):
        polygon = wiggly_disk(vertices)
        parts = peel_to_fit(polygon, budget)
        assert parts is not None
        counts = [vertex_count(p) for p in parts]
        assert len(parts) == fewest_parts(vertices, budget)
        assert max(counts) <= budget
        last_two = counts[-2:]  # peeled last: the rest, and the part cut off it
        assert abs(last_two[0] - last_two[1]) <= 0.2 * budget + 1, counts
        assert min(counts) >= budget / 4, counts
        assert math.isclose(sum(p.area for p in parts), polygon.area, rel_tol=1e-9)


def test_the_fewest_parts_count_the_triangles_each_part_holds() -> None:
    # A part of k vertices holds k − 2 of an n-gon's n − 2 triangles.
    assert fewest_parts(100, 100) == 1
    assert fewest_parts(101, 100) == 2
    assert fewest_parts(198, 100) == 2
    assert fewest_parts(199, 100) == 3
    assert fewest_parts(5, 4) == 2


def _inside_by_geos(ring: np.ndarray, start: int, spans: np.ndarray) -> list[int]:
    """What the compiled tests must agree with: GEOS on each shrunk diagonal."""
    a, b = ring[start], ring[(start + spans) % len(ring)]
    diagonals = shapely.linestrings(np.stack([a + (b - a) * _SHRINK, b - (b - a) * _SHRINK], 1))
    polygon = shapely.Polygon(ring)
    return [int(s) for s in spans[shapely.contains_properly(polygon, diagonals)]]


def test_diagonals_are_judged_as_geos_judges_them_where_they_graze_the_ring() -> None:
    # Vertices in a row along an edge (diagonals between them run on the boundary), a reflex
    # vertex on two diagonals (each touches the ring there), a comb's teeth, and a winding
    # border on CAP's grid, in degrees where rounding is coarsest.
    collinear = [(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (3, 2), (2, 2), (1, 2), (0, 2), (0, 1)]
    through_vertex = [(0, 0), (4, 0), (4, 4), (2, 2), (0, 4)]
    comb = [(0, 0), (0, 3), (1, 3), (1, 1), (2, 1), (2, 3), (3, 3), (3, 1), (4, 1), (4, 3)]
    comb += [(5, 3), (5, 0)]
    border = shapely.get_coordinates(wiggly_disk(60, 0.05))[:-1] * 0.01 + (-5.0003, 34.0331)
    shapes = [shapely.Polygon(r) for r in (collinear, through_vertex, comb)]
    # Counter-clockwise, as ``peel_to_fit`` hands them on.
    rings = [
        np.asarray(orient(p, sign=1.0).exterior.coords)[:-1]
        for p in [*shapes, shapely.Polygon(np.round(border, 6))]
    ]
    for ring in rings:
        spans = np.arange(len(ring) - 2, 1, -1)
        for start in range(len(ring)):
            expected = _inside_by_geos(ring, start, spans)
            assert list(_inside_spans(ring, start, spans, True)) == expected, (ring, start)
    # The diagonals through the reflex vertex touch the ring there: neither is inside.
    assert list(_inside_spans(rings[1], 0, np.array([2]), True)) == []
    assert list(_inside_spans(rings[1], 1, np.array([3]), True)) == []
