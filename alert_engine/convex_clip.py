"""A polygonal region clipped to a convex polygon, compiled: pure geometry, no I/O.

The exact zone is a disk (convex) ∩ the territory: thousands of coast vertices, nearly all
inside the disk, and a few dozen places where the coast or a border crosses the disk's edge.
A general overlay nodes every edge against every other; against a convex polygon each
vertex needs only one side test (the edge of the wedge from the polygon's centre that holds
it), and only the edges that change sides, or pass close by, need an intersection. The
pieces of the region's rings inside the disk are then joined along the disk's edge, in the
order the crossings lie on it (Weiler–Atherton with a convex window).

Anything this does not handle plainly is handed back (``None``) for the general overlay to do:
a vertex within ``_TOUCH_DEG`` of the disk's edge (a touch rather than a crossing), a
crossing at a corner of the disk, a hole of the region that crosses the disk's edge (it may
touch its shell, and joined to it would make one ring touch itself), the disk inside the
region with nothing crossing, or a polygon that is not strictly convex.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.compiled import compiled
from alert_engine.hull import pseudo_angle
from alert_engine.rings import rings_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_TOUCH_DEG = 1e-9  # ≈ 0.1 mm: closer to the convex polygon's edge is a touch, not a side
# Vertices per run whose bounding box is kept: a run away from the window is skipped whole,
# so a zone reads the few thousand coast vertices near it, not the tens of thousands of all.
_RUN = 32


@dataclass(frozen=True)
class ClipRings:
    """A polygonal region's rings as arrays, read once: vertices with the region's interior
    on their left (shells counter-clockwise, holes clockwise), each ring closed."""

    points: FloatArray  # (n, 2)
    offsets: IntArray  # ring r is points[offsets[r]:offsets[r + 1]]
    is_shell: BoolArray  # per ring
    ring_of: IntArray  # per vertex
    run_low: FloatArray  # (runs, 2): the box of vertices k·_RUN to (k + 1)·_RUN, both ends in
    run_high: FloatArray

    @classmethod
    def of(cls, region: BaseGeometry) -> ClipRings:
        rings = rings_of(region)
        points = _oriented(rings.points, rings.offsets, rings.is_shell)
        low, high = _run_boxes(points)
        return cls(points, rings.offsets, rings.is_shell, rings.ring_of, low, high)


@dataclass(frozen=True)
class ClippedRings:
    """The rings of ``region ∩ convex`` as arrays: shells counter-clockwise, holes clockwise."""

    points: FloatArray  # (n, 2), each ring closed
    offsets: IntArray  # ring r is points[offsets[r]:offsets[r + 1]]
    is_hole: BoolArray  # per ring


def clipped_rings(rings: ClipRings, convex: shapely.Polygon) -> ClippedRings | None:
    """The rings of ``region ∩ convex`` for the region whose ``rings`` these are and a
    strictly convex ``convex`` (none: the intersection is empty); None where the general
    overlay is needed. Without building a geometry: what an area needs."""
    if convex.interiors or len(rings.points) == 0:
        return None
    done, out, out_offsets, is_hole = _clip(
        rings.points,
        rings.offsets,
        rings.is_shell,
        rings.ring_of,
        rings.run_low,
        rings.run_high,
        np.ascontiguousarray(shapely.get_coordinates(convex)[:-1]),  # no holes: the exterior
        _TOUCH_DEG,
    )
    return ClippedRings(out, out_offsets, is_hole[1:]) if done else None


def clip_to_convex(rings: ClipRings, convex: shapely.Polygon) -> BaseGeometry | None:
    """``region ∩ convex`` (Polygon or MultiPolygon, possibly empty) for the region whose
    ``rings`` these are and a strictly convex ``convex``; None where the general overlay is
    needed."""
    clipped = clipped_rings(rings, convex)
    if clipped is None:
        return None
    if len(clipped.is_hole) == 0:
        return shapely.Polygon()
    ring_index = np.repeat(np.arange(len(clipped.is_hole)), np.diff(clipped.offsets))
    result = shapely.linearrings(clipped.points, indices=ring_index)
    return _polygons(result[~clipped.is_hole], result[clipped.is_hole])


def _polygons(
    shells: npt.NDArray[np.object_], holes: npt.NDArray[np.object_]
) -> BaseGeometry | None:
    """Holes given to the shell around them (each lies inside exactly one: the shells are
    disjoint pieces of the region); None if one is not found."""
    if not len(holes):
        polygons = shapely.polygons(shells)
        return polygons[0] if len(polygons) == 1 else shapely.multipolygons(polygons)
    owned: list[list[BaseGeometry]] = [[] for _ in shells]
    if len(holes):
        polygons = shapely.polygons(shells)
        shapely.prepare(polygons)
        for hole in holes:
            inner = shapely.point_on_surface(shapely.Polygon(hole))
            owner = np.flatnonzero(shapely.contains(polygons, inner))
            if len(owner) != 1:
                return None
            owned[int(owner[0])].append(hole)
    result = [shapely.Polygon(shell, owned[i]) for i, shell in enumerate(shells)]
    return result[0] if len(result) == 1 else shapely.MultiPolygon(result)


@compiled
def _cross(ax: float, ay: float, bx: float, by: float) -> float:
    return ax * by - ay * bx


@compiled
def _oriented(coords: FloatArray, offsets: IntArray, is_shell: BoolArray) -> FloatArray:
    """The rings with the region's interior on their left."""
    points = coords.copy()
    for r in range(offsets.shape[0] - 1):
        s, e = offsets[r], offsets[r + 1]
        twice = 0.0
        for i in range(s, e - 1):
            twice += _cross(points[i, 0], points[i, 1], points[i + 1, 0], points[i + 1, 1])
        if (twice > 0) != is_shell[r]:
            points[s:e] = points[s:e][::-1].copy()
    return points


@compiled
def _run_boxes(points: FloatArray) -> tuple[FloatArray, FloatArray]:
    n = points.shape[0]
    runs = max((n - 1 + _RUN - 1) // _RUN, 0)
    low, high = np.empty((runs, 2)), np.empty((runs, 2))
    for k in range(runs):
        chunk = points[k * _RUN : min((k + 1) * _RUN, n - 1) + 1]
        for axis in range(2):
            low[k, axis], high[k, axis] = chunk[:, axis].min(), chunk[:, axis].max()
    return low, high


@compiled
def _wedge(angles: FloatArray, angle: float) -> int:
    """The edge k (from corner k to k + 1) whose wedge from the centre holds ``angle``:
    ``angles`` rise from corner 0 (the smallest); past the last, or before the first, is
    the last edge's wedge (it wraps round)."""
    m: int = angles.shape[0]
    if angle < angles[0] or angle >= angles[m - 1]:
        return m - 1
    lo, hi = 0, m - 1  # angles[lo] <= angle < angles[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if angles[mid] <= angle:
            lo = mid
        else:
            hi = mid
    return lo


@compiled
def _window(
    window: FloatArray,
) -> tuple[bool, FloatArray, FloatArray, FloatArray, float, float]:
    """(strictly convex, its corners counter-clockwise from the one of least pseudo-angle
    around their mean, those angles, its edges' lengths, that mean)."""
    m = window.shape[0]
    area = 0.0
    for k in range(m):
        area += _cross(window[k, 0], window[k, 1], window[(k + 1) % m, 0], window[(k + 1) % m, 1])
    corners = window.copy() if area > 0 else window[::-1].copy()
    angles, lengths = np.empty(m), np.empty(m)
    for k in range(m):
        a, b, c = corners[k], corners[(k + 1) % m], corners[(k + 2) % m]
        if _cross(b[0] - a[0], b[1] - a[1], c[0] - b[0], c[1] - b[1]) <= 0.0:
            return False, corners, angles, lengths, 0.0, 0.0
    cx, cy = corners[:, 0].mean(), corners[:, 1].mean()
    for k in range(m):
        angles[k] = pseudo_angle(corners[k, 0] - cx, corners[k, 1] - cy)
    first = int(np.argmin(angles))
    corners = np.concatenate((corners[first:], corners[:first]))
    angles = np.concatenate((angles[first:], angles[:first]))
    for k in range(m - 1):
        if angles[k + 1] <= angles[k]:
            return False, corners, angles, lengths, cx, cy
    for k in range(m):
        b = corners[(k + 1) % m]
        lengths[k] = math.hypot(b[0] - corners[k, 0], b[1] - corners[k, 1])
    return True, corners, angles, lengths, cx, cy


@compiled
def _grown(array: FloatArray, needed: int) -> FloatArray:
    """``array`` of points, or a copy with room for ``needed`` and as many again."""
    if needed <= array.shape[0]:
        return array
    grown = np.empty((2 * needed, 2))
    grown[: array.shape[0]] = array
    return grown


@compiled
def _clip(
    points: FloatArray,
    offsets: IntArray,
    is_shell: BoolArray,
    ring_of: IntArray,
    run_low: FloatArray,
    run_high: FloatArray,
    window: FloatArray,
    touch: float,
) -> tuple[bool, FloatArray, IntArray, BoolArray]:
    """(done, vertices of the result's rings each closed, ring offsets, whether each ring is
    a hole (after a placeholder: ``is_hole[1:]``)), for ``ClipRings``'s arrays and
    ``window``, the convex polygon's corners without the closing repeat."""
    failed = (False, np.zeros((0, 2)), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.bool_))
    convex, corners, angles, lengths, cx, cy = _window(window)
    if not convex:
        return failed
    m = corners.shape[0]
    west, east = corners[:, 0].min() - touch, corners[:, 0].max() + touch
    south, north = corners[:, 1].min() - touch, corners[:, 1].max() + touch
    n = points.shape[0]
    rings = offsets.shape[0] - 1

    # Which side of the window each vertex near it lies on (the rest lie outside its box).
    inside = np.zeros(n, dtype=np.bool_)
    wedge = np.empty(n, dtype=np.int64)
    runs = run_low.shape[0]
    near = np.zeros(runs, dtype=np.bool_)
    kept = examined = 0
    for run in range(runs):
        near[run] = (
            run_low[run, 0] <= east
            and run_high[run, 0] >= west
            and run_low[run, 1] <= north
            and run_high[run, 1] >= south
        )
        if not near[run]:
            continue
        examined += _RUN
        for i in range(run * _RUN, min((run + 1) * _RUN, n - 1) + 1):
            x, y = points[i, 0], points[i, 1]
            k = _wedge(angles, pseudo_angle(x - cx, y - cy))
            a, b = corners[k], corners[(k + 1) % m]
            side = _cross(b[0] - a[0], b[1] - a[1], x - a[0], y - a[1]) / lengths[k]
            if abs(side) <= touch:
                return failed
            wedge[i], inside[i] = k, side > 0
            kept += side > 0

    # Crossings, in the order of the rings: the edge (its first vertex), the point, where on
    # the window's boundary (edge + fraction), and whether the ring enters there.
    limit = 2 * examined  # an edge crosses a convex polygon's boundary twice at most
    at_edge = np.empty(limit, dtype=np.int64)
    at = np.empty((limit, 2))
    along = np.empty(limit)
    on_edge = np.empty(limit, dtype=np.int64)  # the window edge: along's whole part, unrounded
    entering = np.empty(limit, dtype=np.bool_)
    count = 0
    found_t, found_u, found_k = np.empty(m), np.empty(m), np.empty(m, dtype=np.int64)
    for run in range(runs):
        if not near[run]:
            continue
        for i in range(run * _RUN, min((run + 1) * _RUN, n - 1)):
            if ring_of[i] != ring_of[i + 1] or (inside[i] and inside[i + 1]):
                continue  # no edge (a ring's end), or one inside a convex polygon
            px, py = points[i, 0], points[i, 1]
            rx, ry = points[i + 1, 0] - px, points[i + 1, 1] - py
            # The wedges the edge sweeps, seen from the centre.
            turn = _cross(px - cx, py - cy, points[i + 1, 0] - cx, points[i + 1, 1] - cy)
            if turn > 0:
                steps, direction = (wedge[i + 1] - wedge[i]) % m, 1
            else:
                steps, direction = (wedge[i] - wedge[i + 1]) % m, -1
            # Near the centre the sweep is ill-defined: try every edge.
            everywhere = abs(turn) <= 1e-12 * (rx * rx + ry * ry + 1e-300) or steps > m // 2
            hits = 0
            for j in range(m if everywhere else steps + 1):
                k = j if everywhere else (wedge[i] + direction * j) % m
                a, b = corners[k], corners[(k + 1) % m]
                if _near_segment(a, px, py, rx, ry, touch) or _near_segment(
                    b, px, py, rx, ry, touch
                ):
                    return failed  # by a corner, hit or missed by rounding
                sx, sy = b[0] - a[0], b[1] - a[1]
                denominator = _cross(rx, ry, sx, sy)
                if denominator == 0.0:
                    continue
                qx, qy = a[0] - px, a[1] - py
                t = _cross(qx, qy, sx, sy) / denominator
                u = _cross(qx, qy, rx, ry) / denominator
                if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0:
                    found_t[hits], found_u[hits], found_k[hits] = t, u, k
                    hits += 1
            expected = 1 if inside[i] != inside[i + 1] else (0 if hits == 0 else 2)
            if hits != expected:
                return failed  # grazing: the general overlay decides
            first_hit = 0 if hits < 2 or found_t[0] <= found_t[1] else 1
            for j in range(hits):
                h = first_hit if j == 0 else 1 - first_hit
                at_edge[count] = i
                at[count, 0], at[count, 1] = px + found_t[h] * rx, py + found_t[h] * ry
                along[count] = found_k[h] + found_u[h]
                on_edge[count] = found_k[h]
                # Entering: from outside to inside (the first of two, or the inside end).
                entering[count] = (not inside[i]) if hits == 1 else j == 0
                count += 1

    # The crossings of ring r: [ring_first[r], ring_first[r + 1]) (found in ring order).
    ring_first = np.zeros(rings + 1, dtype=np.int64)
    for c in range(count):
        ring_first[ring_of[at_edge[c]] + 1] += 1
    for r in range(rings):
        ring_first[r + 1] += ring_first[r]
        if ring_first[r + 1] > ring_first[r] and not is_shell[r]:
            return failed  # a hole may touch its shell at a point: joined, one ring would too

    # Along the window's boundary counter-clockwise, each exit is followed by an entry: the
    # result's boundary runs from the one to the other along the window.
    sequence = np.argsort(along[:count])
    for q in range(count):
        c, d = sequence[q], sequence[(q + 1) % count]
        gap = at[d] - at[c]
        if count > 1 and math.hypot(gap[0], gap[1]) <= touch:
            return failed  # two crossings as good as one point: their order is rounding's
    next_entry = np.full(count, -1, dtype=np.int64)
    for q in range(count):
        c = sequence[q]
        if not entering[c]:
            following = sequence[(q + 1) % count]
            if not entering[following]:
                return failed
            next_entry[c] = following

    # Each entry's exit: the next crossing along its ring (they alternate).
    exit_of = np.full(count, -1, dtype=np.int64)
    for r in range(rings):
        s, e = ring_first[r], ring_first[r + 1]
        for c in range(s, e):
            following = c + 1 if c + 1 < e else s
            if entering[c] == entering[following]:
                return failed
            if entering[c]:
                exit_of[c] = following

    out = np.empty((kept + 2 * count + 2 * m + 16, 2))  # grown below if a ring needs more
    out_offsets = [0]
    holes = [False]  # whether each ring is a hole (the first entry is a placeholder)
    size = 0
    used = np.zeros(count, dtype=np.bool_)
    for start in range(count):
        if not entering[start] or used[start]:
            continue
        c = start
        while True:
            used[c] = True
            x = exit_of[c]
            r = ring_of[at_edge[c]]
            s, e = offsets[r], offsets[r + 1]
            distinct = e - s - 1
            # The chain: the entry point, the ring's vertices up to the exit's edge, the exit.
            inner = (at_edge[x] - at_edge[c]) % distinct
            out = _grown(out, size + inner + m + 4)
            out[size] = at[c]
            size += 1
            for j in range(inner):
                out[size] = points[s + (at_edge[c] - s + 1 + j) % distinct]
                size += 1
            out[size] = at[x]
            size += 1
            # Along the window from the exit to the next entry: the corners between.
            following = next_entry[x]
            k_from, k_to = on_edge[x], on_edge[following]
            corners_between = (k_to - k_from) % m
            if corners_between == 0 and along[following] < along[x]:
                corners_between = m  # all the way round
            for j in range(corners_between):
                corner = corners[(k_from + 1 + j) % m]
                if corner[0] != out[size - 1, 0] or corner[1] != out[size - 1, 1]:
                    out[size] = corner
                    size += 1
            c = following
            if c == start:
                break
            if used[c] or not entering[c]:
                return failed
        out[size] = out[out_offsets[-1]]
        size += 1
        if abs(_twice_area(out[out_offsets[-1] : size])) <= touch * touch:
            return failed  # a sliver rounded flat: not a valid ring
        out_offsets.append(size)
        holes.append(False)

    # Rings that cross nothing: inside the window, a shell is an island of its own, a hole
    # goes to the shell around it (``_polygons``). Outside, they bound nothing within the
    # window, unless the window lies inside the region.
    for r in range(rings):
        s, e = offsets[r], offsets[r + 1]
        if ring_first[r] != ring_first[r + 1] or not inside[s]:
            continue
        out = _grown(out, size + e - s)
        out[size : size + e - s] = points[s:e]
        size += e - s
        out_offsets.append(size)
        holes.append(not is_shell[r])
    if count == 0 and _inside_region(points, offsets, corners[0, 0], corners[0, 1]):
        return failed  # the window within the region: the caller's containment test's case
    return True, out[:size].copy(), np.array(out_offsets, dtype=np.int64), np.array(holes)


@compiled
def _near_segment(
    corner: FloatArray, px: float, py: float, rx: float, ry: float, touch: float
) -> bool:
    """Whether ``corner`` lies within ``touch`` of the segment from (px, py) by (rx, ry)."""
    qx, qy = corner[0] - px, corner[1] - py
    squared = rx * rx + ry * ry
    t = 0.0 if squared == 0.0 else min(max((qx * rx + qy * ry) / squared, 0.0), 1.0)
    return math.hypot(qx - t * rx, qy - t * ry) <= touch


@compiled
def _twice_area(ring: FloatArray) -> float:
    """Twice the signed area of a closed ring (the shoelace)."""
    total = 0.0
    for i in range(ring.shape[0] - 1):
        total += _cross(ring[i, 0], ring[i, 1], ring[i + 1, 0], ring[i + 1, 1])
    return total


@compiled
def _inside_region(points: FloatArray, offsets: IntArray, x: float, y: float) -> bool:
    """Even–odd ray casting over all the rings."""
    inside = False
    for r in range(offsets.shape[0] - 1):
        for i in range(offsets[r], offsets[r + 1] - 1):
            ax, ay, bx, by = points[i, 0], points[i, 1], points[i + 1, 0], points[i + 1, 1]
            if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                inside = not inside
    return inside
