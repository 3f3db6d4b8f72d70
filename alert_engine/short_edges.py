"""Vertices that only make edges shorter than a metre, removed: pure geometry, no I/O.

Where a tangent of the cover crosses the allowed area's border next to one of its corners, the
overlay leaves clusters of vertices centimetres apart: each costs one of the 100 a cell
broadcast polygon may have, and says nothing a consumer can use. Of the two ends of a short
edge, the one whose removal *grows* the polygon (a reflex corner: the triangle it cut out is
added back) goes first, so coverage cannot suffer; otherwise the one whose removal changes
the least area. A removed convex corner takes a sliver within the short edge's length of the
old boundary, and the zone keeps a margin of metres from that boundary; the caller checks the
coverage anyway.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

FloatArray = npt.NDArray[np.float64]

_M_PER_DEG = 111_195.0  # metres per degree of latitude (mean): enough to judge a metre
_MIN_RING = 4  # vertices a ring keeps, closing repeat excluded: never reduced to a sliver


def drop_short_edges(geometry: BaseGeometry, min_m: float) -> BaseGeometry:
    """``geometry`` (Polygon or MultiPolygon, lon/lat) without edges shorter than ``min_m``
    where removing a vertex can avoid them; unchanged if the result would be invalid."""
    # Most polygons have no short edge: one vectorised pass over all points says so. (Pairs
    # across two rings are measured too; a short one only costs the ring-by-ring pass.)
    coords = shapely.get_coordinates(geometry)
    if len(coords) < 2 or bool(np.all(_lengths_m(coords)[:-1] >= min_m)):
        return geometry
    polygons = []
    changed = False
    for polygon in shapely.get_parts(geometry):
        oriented = orient(polygon, sign=1.0)  # interior on the left of every ring
        rings = [np.asarray(r.coords)[:-1] for r in (oriented.exterior, *oriented.interiors)]
        kept = [_drop(ring, min_m) for ring in rings]
        changed = changed or any(len(k) != len(r) for k, r in zip(kept, rings, strict=True))
        polygons.append(shapely.Polygon(kept[0], kept[1:]))
    if not changed:
        return geometry
    result = polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
    return result if result.is_valid else geometry


def _drop(ring: FloatArray, min_m: float) -> FloatArray:
    while len(ring) > _MIN_RING:
        lengths = _lengths_m(ring)
        shortest = int(np.argmin(lengths))
        if lengths[shortest] >= min_m:
            break
        ends = (shortest, (shortest + 1) % len(ring))
        ring = np.delete(ring, min(ends, key=lambda i: _removal_cost(ring, i)), axis=0)
    return ring


def _lengths_m(ring: FloatArray) -> FloatArray:
    delta = np.roll(ring, -1, axis=0) - ring
    squash = np.cos(np.radians(ring[:, 1]))
    return np.asarray(np.hypot(delta[:, 0] * squash, delta[:, 1]) * _M_PER_DEG)


def _removal_cost(ring: FloatArray, i: int) -> tuple[bool, float]:
    """Sort key: removals that only add area first, then the smallest change of area."""
    before, here, after = ring[i - 1], ring[i], ring[(i + 1) % len(ring)]
    u, v = here - before, after - here
    turn = float(u[0] * v[1] - u[1] * v[0])  # > 0: a left (convex) turn, the interior's side
    return turn > 0.0, math.fabs(turn)
