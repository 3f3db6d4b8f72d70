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

import heapq
import math

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from alert_engine.compiled import compiled

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

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
    """The ring with one end of its shortest edge removed (``_removal_cost``), again and
    again while an edge is shorter than ``min_m`` and more than ``_MIN_RING`` vertices
    remain."""
    kept: FloatArray = ring[_kept(np.ascontiguousarray(ring, dtype=np.float64), min_m)]
    return kept


@compiled
def _kept(ring: FloatArray, min_m: float) -> BoolArray:
    """Which vertices ``_drop`` keeps. Clusters hold dozens of vertices: the short edges wait
    in a heap, the ring is a linked list, and a removal only measures the one edge it makes."""
    n = ring.shape[0]
    length = np.empty(n)
    for i in range(n):
        length[i] = _length_m(ring[i], ring[(i + 1) % n])
    short = [(length[i], i) for i in range(n) if length[i] < min_m]
    heapq.heapify(short)  # (length, start): ties go to the first edge along the ring
    following = (np.arange(n) + 1) % n
    preceding = (np.arange(n) + n - 1) % n
    alive = np.ones(n, dtype=np.bool_)
    remaining = n
    while len(short) and remaining > _MIN_RING:
        edge_length, start = heapq.heappop(short)
        if not alive[start] or length[start] != edge_length:
            continue  # an edge that a removal has since changed or taken away
        end = following[start]
        convex_start, change_start = _removal_cost(
            ring[preceding[start]], ring[start], ring[following[start]]
        )
        convex_end, change_end = _removal_cost(
            ring[preceding[end]], ring[end], ring[following[end]]
        )
        # A reflex corner first (removing it only adds area), then the smaller change of area
        # (the first of equals).
        first = convex_start < convex_end or (
            convex_start == convex_end and change_start <= change_end
        )
        removed = start if first else end
        before, after = preceding[removed], following[removed]
        following[before], preceding[after] = after, before
        alive[removed] = False
        remaining -= 1
        length[before] = _length_m(ring[before], ring[after])
        if length[before] < min_m:
            heapq.heappush(short, (length[before], before))
    return alive


def _lengths_m(ring: FloatArray) -> FloatArray:
    delta = np.roll(ring, -1, axis=0) - ring
    squash = np.cos(np.radians(ring[:, 1]))
    return np.asarray(np.hypot(delta[:, 0] * squash, delta[:, 1]) * _M_PER_DEG)


@compiled
def _length_m(start: FloatArray, end: FloatArray) -> float:
    """One edge's ``_lengths_m``."""
    squash = math.cos(math.radians(start[1]))
    return math.hypot((end[0] - start[0]) * squash, end[1] - start[1]) * _M_PER_DEG


@compiled
def _removal_cost(before: FloatArray, here: FloatArray, after: FloatArray) -> tuple[bool, float]:
    """Whether removing ``here`` only takes area (a convex corner: removals that only add
    area go first), and by how much the area changes."""
    ux, uy = here[0] - before[0], here[1] - before[1]
    vx, vy = after[0] - here[0], after[1] - here[1]
    turn = ux * vy - uy * vx  # > 0: a left (convex) turn, the interior's side
    return turn > 0.0, math.fabs(turn)
