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

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.compiled import compiled
from alert_engine.hull import pseudo_angle

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_TOUCH_DEG = 1e-9  # ≈ 0.1 mm: closer to the convex polygon's edge is a touch, not a side
_PAD_DEG = 1e-3  # the region is first cut to the polygon's bounds grown by this


def clip_to_convex(region: BaseGeometry, convex: shapely.Polygon) -> BaseGeometry | None:
    """``region ∩ convex`` (Polygon or MultiPolygon, possibly empty) for a polygonal
    ``region`` and a strictly convex ``convex``; None where the general overlay is needed."""
    if convex.interiors:
        return None
    minx, miny, maxx, maxy = convex.bounds
    # Grown: the cut's own edges must not run through the polygon's extreme corners.
    local = shapely.clip_by_rect(
        region, minx - _PAD_DEG, miny - _PAD_DEG, maxx + _PAD_DEG, maxy + _PAD_DEG
    )
    polygons = [p for p in shapely.get_parts(local) if isinstance(p, shapely.Polygon)]
    if not polygons:
        return shapely.Polygon()
    rings, owner = shapely.get_rings(np.asarray(polygons, dtype=object), return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(ring_of, minlength=len(rings)))])
    # get_rings gives each polygon's exterior first, then its holes.
    is_shell = np.concatenate([[True], owner[1:] != owner[:-1]])
    window = np.asarray(convex.exterior.coords)[:-1]
    done, out, out_offsets, is_hole = _clip(
        np.ascontiguousarray(coords),
        offsets.astype(np.int64),
        is_shell,
        np.ascontiguousarray(window),
        _TOUCH_DEG,
    )
    if not done:
        return None
    if len(out_offsets) == 1:
        return shapely.Polygon()
    ring_index = np.repeat(np.arange(len(out_offsets) - 1), np.diff(out_offsets))
    rings = shapely.linearrings(out, indices=ring_index)
    return _polygons(rings[~is_hole[1:]], rings[is_hole[1:]])


def _polygons(
    shells: npt.NDArray[np.object_], holes: npt.NDArray[np.object_]
) -> BaseGeometry | None:
    """Holes given to the shell around them (each lies inside exactly one: the shells are
    disjoint pieces of the region); None if one is not found."""
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
def _clip(
    coords: FloatArray,
    offsets: IntArray,
    is_shell: BoolArray,
    window: FloatArray,
    touch: float,
) -> tuple[bool, FloatArray, IntArray, BoolArray]:
    """(done, vertices of the result's rings each closed, ring offsets, whether each ring is
    a hole (after a placeholder: ``is_hole[1:]``)). ``coords`` are the
    region's rings, each closed, ``offsets`` where each starts; ``window`` the convex
    polygon's corners without the closing repeat."""
    failed = (False, np.zeros((0, 2)), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.bool_))
    m = window.shape[0]
    # The window counter-clockwise and strictly convex.
    area = 0.0
    for k in range(m):
        area += _cross(window[k, 0], window[k, 1], window[(k + 1) % m, 0], window[(k + 1) % m, 1])
    corners = window.copy() if area > 0 else window[::-1].copy()
    for k in range(m):
        a, b, c = corners[k], corners[(k + 1) % m], corners[(k + 2) % m]
        if _cross(b[0] - a[0], b[1] - a[1], c[0] - b[0], c[1] - b[1]) <= 0.0:
            return failed
    cx, cy = corners[:, 0].mean(), corners[:, 1].mean()
    angles = np.empty(m)
    for k in range(m):
        angles[k] = pseudo_angle(corners[k, 0] - cx, corners[k, 1] - cy)
    first = int(np.argmin(angles))
    corners = np.concatenate((corners[first:], corners[:first]))
    angles = np.concatenate((angles[first:], angles[:first]))
    for k in range(m - 1):
        if angles[k + 1] <= angles[k]:
            return failed
    lengths = np.empty(m)
    for k in range(m):
        lengths[k] = np.hypot(
            corners[(k + 1) % m, 0] - corners[k, 0], corners[(k + 1) % m, 1] - corners[k, 1]
        )

    # The rings with the region's interior on their left: shells counter-clockwise, holes not.
    rings = offsets.shape[0] - 1
    points = coords.copy()
    for r in range(rings):
        s, e = offsets[r], offsets[r + 1]
        twice = 0.0
        for i in range(s, e - 1):
            twice += _cross(points[i, 0], points[i, 1], points[i + 1, 0], points[i + 1, 1])
        if (twice > 0) != is_shell[r]:
            points[s:e] = points[s:e][::-1].copy()

    n = points.shape[0]
    wedge = np.empty(n, dtype=np.int64)
    inside = np.empty(n, dtype=np.bool_)
    for i in range(n):
        x, y = points[i, 0], points[i, 1]
        k = _wedge(angles, pseudo_angle(x - cx, y - cy))
        a, b = corners[k], corners[(k + 1) % m]
        side = _cross(b[0] - a[0], b[1] - a[1], x - a[0], y - a[1]) / lengths[k]
        if abs(side) <= touch:
            return failed
        wedge[i], inside[i] = k, side > 0

    # Crossings, in the order of their rings: the edge (its first vertex), the point, where
    # on the window's boundary (edge + fraction), and whether the ring enters there.
    limit = 2 * n + 2
    at_edge = np.empty(limit, dtype=np.int64)
    at_x, at_y, along = np.empty(limit), np.empty(limit), np.empty(limit)
    entering = np.empty(limit, dtype=np.bool_)
    ring_first = np.zeros(rings + 1, dtype=np.int64)  # crossings of ring r: [first[r], first[r+1])
    count = 0
    found_t, found_u, found_k = np.empty(m), np.empty(m), np.empty(m, dtype=np.int64)
    for r in range(rings):
        ring_first[r] = count
        for i in range(offsets[r], offsets[r + 1] - 1):
            if inside[i] and inside[i + 1]:
                continue  # both inside a convex polygon: so is the edge
            px, py = points[i, 0], points[i, 1]
            rx, ry = points[i + 1, 0] - px, points[i + 1, 1] - py
            # The wedges the edge sweeps, seen from the centre.
            turn = _cross(px - cx, py - cy, points[i + 1, 0] - cx, points[i + 1, 1] - cy)
            if turn > 0:
                steps = (wedge[i + 1] - wedge[i]) % m
                direction = 1
            else:
                steps = (wedge[i] - wedge[i + 1]) % m
                direction = -1
            # Near the centre the sweep is ill-defined: try every edge.
            everywhere = abs(turn) <= 1e-12 * (rx * rx + ry * ry + 1e-300) or steps > m // 2
            tried = m if everywhere else steps + 1
            hits = 0
            for j in range(tried):
                k = j if everywhere else (wedge[i] + direction * j) % m
                a, b = corners[k], corners[(k + 1) % m]
                sx, sy = b[0] - a[0], b[1] - a[1]
                denominator = _cross(rx, ry, sx, sy)
                if denominator == 0.0:
                    continue
                qx, qy = a[0] - px, a[1] - py
                t = _cross(qx, qy, sx, sy) / denominator
                u = _cross(qx, qy, rx, ry) / denominator
                if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0:
                    if u == 0.0 or u == 1.0:
                        return failed  # through a corner
                    found_t[hits], found_u[hits], found_k[hits] = t, u, k
                    hits += 1
            expected = 1 if inside[i] != inside[i + 1] else (0 if hits == 0 else 2)
            if hits != expected:
                return failed  # through a corner, or grazing: the general overlay decides
            first_hit = 0 if hits < 2 or found_t[0] <= found_t[1] else 1
            for j in range(hits):
                h = first_hit if j == 0 else 1 - first_hit
                at_edge[count] = i
                at_x[count] = px + found_t[h] * rx
                at_y[count] = py + found_t[h] * ry
                along[count] = found_k[h] + found_u[h]
                # Entering: from outside to inside (the first of two, or the inside end).
                entering[count] = (not inside[i]) if hits == 1 else j == 0
                count += 1
        if count > ring_first[r] and not is_shell[r]:
            return failed  # a hole may touch its shell at a point: joined, one ring would too
    ring_first[rings] = count

    # Along the window's boundary counter-clockwise, each exit is followed by an entry: the
    # result's boundary runs from the one to the other along the window.
    sequence = np.argsort(along[:count])
    for q in range(count - 1):
        if along[sequence[q]] == along[sequence[q + 1]]:
            return failed
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

    out = np.empty((n + count + 4 * m + 16, 2))  # grown below if a ring needs more
    out_offsets = [0]
    holes = [False]  # whether each ring is a hole (the first entry is a placeholder)
    size = 0
    ring_of = np.empty(count, dtype=np.int64)
    for r in range(rings):
        ring_of[ring_first[r] : ring_first[r + 1]] = r
    used = np.zeros(count, dtype=np.bool_)
    for start in range(count):
        if not entering[start] or used[start]:
            continue
        c = start
        while True:
            used[c] = True
            x = exit_of[c]
            r = ring_of[c]
            s, e = offsets[r], offsets[r + 1]
            distinct = e - s - 1
            # The chain: the entry point, the ring's vertices up to the exit's edge, the exit.
            inner = (at_edge[x] - at_edge[c]) % distinct
            needed = size + inner + 2 + m + 2
            if needed > out.shape[0]:
                grown = np.empty((2 * needed, 2))
                grown[:size] = out[:size]
                out = grown
            out[size, 0], out[size, 1] = at_x[c], at_y[c]
            size += 1
            for j in range(inner):
                v = s + (at_edge[c] - s + 1 + j) % distinct
                out[size] = points[v]
                size += 1
            out[size, 0], out[size, 1] = at_x[x], at_y[x]
            size += 1
            # Along the window from the exit to the next entry: the corners between.
            following = next_entry[x]
            k_from, k_to = int(along[x]), int(along[following])
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
        out_offsets.append(size)
        holes.append(False)

    # Rings that cross nothing: inside the window, a shell is an island of its own, a hole
    # goes to the shell around it (``_polygons``). Outside, they bound nothing within the
    # window, unless the window lies inside the region.
    for r in range(rings):
        if ring_first[r] != ring_first[r + 1]:
            continue
        s, e = offsets[r], offsets[r + 1]
        if not inside[s]:
            continue
        needed = size + (e - s)
        if needed > out.shape[0]:
            grown = np.empty((2 * needed, 2))
            grown[:size] = out[:size]
            out = grown
        out[size:needed] = points[s:e]
        size = needed
        out_offsets.append(size)
        holes.append(not is_shell[r])
    if count == 0 and _inside_region(points, offsets, corners[0, 0], corners[0, 1]):
        return failed  # the window within the region: the caller's containment test's case
    return True, out[:size].copy(), np.array(out_offsets, dtype=np.int64), np.array(holes)


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
