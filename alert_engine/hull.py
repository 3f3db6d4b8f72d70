"""The convex hull of a zone's thousands of vertices, cheaply: pure geometry, no I/O.

A zone clipped to a coast has thousands of vertices and a hull of a few hundred, most of them
on its arc. None of the points strictly inside the polygon of the extreme points in a few
directions can be a hull vertex (Akl–Toussaint), so only the others are sorted, and Andrew's
monotone chain walks them, compiled. "Strictly" with a margin far above rounding, so that no
hull vertex is ever dropped by an error in the last bit. The chain's turns are tested in
floating point: a point within rounding of a hull edge may be kept or dropped, which moves
the hull by some 1e-16 of its size (nanometres); the cover built on it keeps a margin of
metres, and is checked against the zone itself.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from alert_engine.compiled import compiled

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DIRECTIONS = 16  # extreme points found: the polygon they make leaves ~1/3 of an arc's points
_FEW = 64  # below this many points, sorting them all is as cheap as filtering
_MARGIN = 1e-9  # of the extent: how far inside a dropped point must be
# A cross product's sign is certain when its value exceeds this share of the product of its
# vectors' sizes (L1): differences and products round by a few ε (2⁻⁵³) of those, far less.
_CROSS_ERROR = 1e-12
# What ``locate_in_hull`` says of a point: outside, inside, or too near the ring to tell.
OUTSIDE, INSIDE, CLOSE = 0, 1, 2


def hull_ring(points: FloatArray) -> FloatArray:
    """The convex hull of ``points`` ((n, 2), n ≥ 3, not all in line): its vertices
    counter-clockwise, without a closing repeat, none where the ring runs straight."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    kept = points[_not_inside(points, _DIRECTIONS, _MARGIN)] if len(points) >= _FEW else points
    ring: FloatArray = _monotone_chain(kept)
    return ring


def with_normals(ring: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """A hull ring (``hull_ring``) without repeated points (their normal is undefined); the
    angle of each edge's outward normal, unwrapped (along a convex counter-clockwise ring it
    only rises, so a search finds the vertex between two normals); and the greatest
    distance of a vertex from the origin. One compiled pass: as array operations, these
    cost more than the hull itself."""
    return _with_normals(np.ascontiguousarray(ring, dtype=np.float64))


@compiled
def _with_normals(ring: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    n = ring.shape[0]
    keep = np.empty(n, dtype=np.bool_)
    for i in range(n):
        j = (i + 1) % n
        keep[i] = math.hypot(ring[j, 0] - ring[i, 0], ring[j, 1] - ring[i, 1]) > 1e-6
    vertices = np.empty((int(keep.sum()), 2))
    m = 0
    size = 0.0
    for i in range(n):
        if keep[i]:
            vertices[m, 0], vertices[m, 1] = ring[i, 0], ring[i, 1]
            size = max(size, math.hypot(ring[i, 0], ring[i, 1]))
            m += 1
    normals = np.empty(m)
    for i in range(m):
        j = (i + 1) % m
        # The outward normal of a counter-clockwise edge (ex, ey) is (ey, -ex).
        normals[i] = math.atan2(-(vertices[j, 0] - vertices[i, 0]), vertices[j, 1] - vertices[i, 1])
    # ``numpy.unwrap``'s steps, in its order: each jump of more than π is brought within it
    # by whole turns, and the corrections add up along the ring.
    correction = 0.0
    previous = normals[0] if m else 0.0
    for i in range(1, m):
        jump = normals[i] - previous
        previous = normals[i]
        wrapped = (jump + math.pi) % (2 * math.pi) - math.pi
        if wrapped == -math.pi and jump > 0:
            wrapped = math.pi
        if abs(jump) >= math.pi:
            correction += wrapped - jump
        normals[i] += correction
    return vertices, normals, size


@compiled
def _monotone_chain(points: FloatArray) -> FloatArray:
    """Andrew's monotone chain: the lower hull left to right, then the upper back."""
    by_y = np.argsort(points[:, 1], kind="mergesort")
    order = by_y[np.argsort(points[by_y, 0], kind="mergesort")]  # by x, then y
    n = len(order)
    ring = np.empty((2 * n, 2))
    size = 0
    upper_floor = 0  # set once the lower hull is done: the upper one keeps it whole
    for j in range(2 * n - 1):
        # Left to right (the lower hull), then right to left from the last but one (upper).
        p = points[order[j]] if j < n else points[order[2 * n - 2 - j]]
        floor = 2 if j < n else upper_floor
        while size >= floor and _turn(ring[size - 2], ring[size - 1], p) <= 0.0:
            size -= 1
        ring[size] = p
        size += 1
        if j == n - 1:
            upper_floor = size + 1
    return ring[: size - 1].copy()  # the last point is the first again


@compiled
def _turn(a: FloatArray, b: FloatArray, c: FloatArray) -> float:
    """> 0 where a → b → c turns left."""
    return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))


@compiled
def _not_inside(points: FloatArray, directions: int, margin: float) -> BoolArray:
    """Which points are not strictly inside the convex polygon of the extreme points in
    ``directions`` evenly spread directions (by ``margin`` of the points' extent).

    Each point is tested against one side only: the side whose wedge from the polygon's
    centre holds it (found by a pseudo-angle, monotone in the angle, no trigonometry)."""
    n = points.shape[0]
    ux, uy = np.empty(directions), np.empty(directions)
    for k in range(directions):
        angle = 2 * math.pi * k / directions
        ux[k], uy[k] = math.cos(angle), math.sin(angle)
    # One pass over the points for every direction (each point read once), the first of
    # equals kept in each.
    best, at = np.full(directions, -np.inf), np.zeros(directions, dtype=np.int64)
    for i in range(n):
        x, y = points[i, 0], points[i, 1]
        for k in range(directions):
            dot = x * ux[k] + y * uy[k]
            if dot > best[k]:
                best[k], at[k] = dot, i
    kept = np.ones(n, dtype=np.bool_)
    # The distinct corners, counter-clockwise (extreme points in rising directions).
    distinct = np.empty((directions, 2))
    m = 0
    for k in range(directions):
        x, y = points[at[k], 0], points[at[k], 1]
        if m == 0 or x != distinct[m - 1, 0] or y != distinct[m - 1, 1]:
            distinct[m, 0], distinct[m, 1] = x, y
            m += 1
    while m > 1 and distinct[m - 1, 0] == distinct[0, 0] and distinct[m - 1, 1] == distinct[0, 1]:
        m -= 1
    if m < 3:
        return kept  # no polygon to be inside: keep every point
    cx, cy = distinct[:m, 0].mean(), distinct[:m, 1].mean()
    angles = np.empty(m)
    for k in range(m):
        angles[k] = pseudo_angle(distinct[k, 0] - cx, distinct[k, 1] - cy)
    start = int(np.argmin(angles))
    # The sides in rising pseudo-angle from there, each worked out once (not per point):
    # side s runs from its corner at ``low[s]`` to the next.
    low, ax, ay = np.empty(m), np.empty(m), np.empty(m)
    ex, ey, length = np.empty(m), np.empty(m), np.empty(m)
    for s in range(m):
        a, b = (start + s) % m, (start + s + 1) % m
        low[s], ax[s], ay[s] = angles[a], distinct[a, 0], distinct[a, 1]
        ex[s], ey[s] = distinct[b, 0] - ax[s], distinct[b, 1] - ay[s]
        length[s] = math.hypot(ex[s], ey[s])
    extent = max(
        points[:, 0].max() - points[:, 0].min(), points[:, 1].max() - points[:, 1].min(), 1e-300
    )
    for i in range(n):
        px, py = points[i, 0], points[i, 1]
        angle = pseudo_angle(px - cx, py - cy)
        j = m - 1  # the side whose wedge holds the angle
        for s in range(m - 1):
            if low[s] <= angle < low[s + 1]:
                j = s
                break
        left = (ex[j] * (py - ay[j]) - ey[j] * (px - ax[j])) / length[j]
        kept[i] = left <= margin * extent
    return kept


@compiled
def pseudo_angle(dx: float, dy: float) -> float:
    """A number in [0, 4) that rises with the angle of (dx, dy), as the angle does."""
    total = abs(dx) + abs(dy)
    if total == 0.0:
        return 0.0
    p = dx / total  # in [-1, 1], falling as the angle rises through the upper half
    return 1.0 - p if dy >= 0.0 else 3.0 + p


def locate_in_hull(ring: FloatArray, x: FloatArray, y: FloatArray) -> npt.NDArray[np.int8]:
    """For each point (``x``, ``y``): ``INSIDE`` the interior of the polygon of ``ring`` (a
    hull's vertices, counter-clockwise, no closing repeat), ``OUTSIDE`` it, or ``CLOSE``
    where floating point cannot tell (the caller asks GEOS): near its boundary, or near a
    ray of the fan from the vertices' mean that decides each point; all of them unless the
    ring is clearly star-shaped from that mean (a hull is).

    A point test in GEOS costs a search of the ring's edges; here a point is placed in one
    triangle of the fan by a binary search, and three signs decide it."""
    return _locate(
        np.ascontiguousarray(ring, dtype=np.float64),
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(y, dtype=np.float64),
    )


@compiled
def _locate(ring: FloatArray, x: FloatArray, y: FloatArray) -> npt.NDArray[np.int8]:
    """``locate_in_hull``. Where every step from a vertex to the next turns clearly
    counter-clockwise about the centre and the ring goes round it once, the polygon is
    star-shaped from it: within the wedge between two consecutive vertices it is exactly
    their triangle with the centre, so a point clearly in that wedge is inside or outside as
    it lies on one side of their edge or the other."""
    n, m = ring.shape[0], x.shape[0]
    verdict = np.full(m, CLOSE, dtype=np.int8)
    if n < 3:
        return verdict
    cx, cy = ring[:, 0].mean(), ring[:, 1].mean()
    vx, vy = ring[:, 0] - cx, ring[:, 1] - cy
    rounds = 0  # upward crossings of the ray east of the centre: turns round it
    for i in range(n):
        j = (i + 1) % n
        if not _clearly_left(vx[i], vy[i], vx[j], vy[j]):
            return verdict
        if vy[i] < 0.0 <= vy[j]:
            rounds += 1
    if rounds != 1:
        return verdict
    angles = np.empty(n)
    for i in range(n):
        angles[i] = pseudo_angle(vx[i], vy[i])
    start = int(np.argmin(angles))
    order = (start + np.arange(n)) % n  # vertices by rising angle
    rising = angles[order]
    for k in range(m):
        wx, wy = x[k] - cx, y[k] - cy
        # The wedge from vertex ``i`` to the next that should hold the point; a wrong one
        # (rounding of the angles) only fails the clear test below.
        at = int(np.searchsorted(rising, pseudo_angle(wx, wy), side="right")) - 1
        i = order[at % n]
        j = (i + 1) % n
        if not (_clearly_left(vx[i], vy[i], wx, wy) and _clearly_left(wx, wy, vx[j], vy[j])):
            continue
        ex, ey = ring[j, 0] - ring[i, 0], ring[j, 1] - ring[i, 1]
        px, py = x[k] - ring[i, 0], y[k] - ring[i, 1]
        if _clearly_left(ex, ey, px, py):
            verdict[k] = INSIDE
        elif _clearly_left(px, py, ex, ey):
            verdict[k] = OUTSIDE
    return verdict


@compiled
def _clearly_left(ux: float, uy: float, wx: float, wy: float) -> bool:
    """Whether (wx, wy) lies to the left of (ux, uy) beyond any rounding of the vectors'
    differences or of the cross product."""
    size = (abs(ux) + abs(uy)) * (abs(wx) + abs(wy))
    return bool(ux * wy - uy * wx > _CROSS_ERROR * size)
