"""Cutting a polygon over the vertex budget along its own diagonals."""

from __future__ import annotations

import math

import numpy as np
import shapely

from alert_engine.diagonal_cuts import peel_to_fit
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
