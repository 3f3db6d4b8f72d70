"""What is sent when zones are not clipped to a territory: a covering polygon of the pieces
within the vertex budget, with an upper bound of its overshoot. Pure, no I/O.

Without a land mask nothing can be spent "over the sea", so the polygon simply follows the
pieces: each is replaced by a coarse covering polygon (a disk by a circumscribed n-gon, a
corridor by the hull of two), and n is the largest that lets their union fit the budget. Every
point of that union lies in some coarse cover, within that cover's overshoot of its piece,
which is inside the zone: the largest of those overshoots bounds the union's. A zone of many
pieces that no n fits falls back to their convex hull, then to its bounding box; there the
bound is measured from the sent polygon's corners to the piece whose farthest corner is
nearest (distance to a point is largest at a convex polygon's corners).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.footprint import vertex_count
from alert_engine.geodesy import distances_m, geodesic_disk
from alert_engine.pieces import Piece

_MIN_SIDES = 8  # coarser disks waste more ground than the hull fallback


@dataclass(frozen=True)
class Cover:
    polygon: BaseGeometry  # lon/lat Polygon, or MultiPolygon when pieces lie apart
    vertex_count: int  # GeoJSON ring vertices, closing repeat excluded, holes included
    overshoot_m: float  # upper bound of the distance from the polygon to the zone


def cover_of(pieces: Sequence[Piece], max_vertices: int) -> Cover:
    if not pieces:
        raise ValueError("a zone needs at least one piece")
    sides = max_vertices
    while sides >= min(_MIN_SIDES, max_vertices):
        covers = [_coarse(piece, sides) for piece in pieces]
        union = shapely.union_all([polygon for polygon, _ in covers])
        count = vertex_count(union)
        if count <= max_vertices:
            return Cover(union, count, max(overshoot for _, overshoot in covers))
        sides = min(sides - 1, int(sides * 0.9))
    hull = shapely.convex_hull(shapely.union_all([p.polygon for p in pieces]))
    if vertex_count(hull) > max_vertices:
        hull = shapely.envelope(hull)
    hull = shapely.orient_polygons(hull)
    return Cover(hull, vertex_count(hull), _corner_bound(hull, pieces))


def _coarse(piece: Piece, sides: int) -> tuple[shapely.Polygon, float]:
    near = geodesic_disk(piece.center, piece.side_km * 1000.0, sides)
    if piece.far is None:
        return near.polygon, near.overshoot_m
    far = geodesic_disk(piece.far, piece.side_km * 1000.0, sides)
    # The hull of two covers is within the larger of their overshoots of the hull of the two
    # disks (a convex combination of points each within e of a disk is within e of the hull).
    hull = shapely.convex_hull(shapely.union(near.polygon, far.polygon))
    assert isinstance(hull, shapely.Polygon)
    return hull, max(near.overshoot_m, far.overshoot_m)


def _corner_bound(polygon: BaseGeometry, pieces: Sequence[Piece]) -> float:
    corners = np.asarray(shapely.get_coordinates(polygon))
    best = np.inf
    for piece in pieces:
        distances = distances_m(piece.center, corners[:, 0], corners[:, 1])
        best = min(best, float(np.max(distances)) - piece.side_km * 1000.0)
    return max(best, 0.0)
