"""Distances to the exact zone's boundary, compiled: the nearest segment through a uniform
grid, and the branch-and-bound of ``overshoot``. Pure arithmetic on arrays, no I/O.

Why compiled: the search is a few hundred intervals evaluated in a few rounds, each a dozen
array operations on a few hundred elements, where numpy's fixed cost per call outweighs the
arithmetic (about 2.5 ms of a 160 km zone's 12). As loops they cost a few tenths.

The boundary is a set of segments (``starts[i]`` to ``ends[i]``), ``ring[i]`` the ring each
belongs to, consecutive segments of one ring adjacent along it. The grid holds each segment
in every cell its bounding box meets (a CSR layout: ``cells[offsets[c]:offsets[c + 1]]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alert_engine.compiled import compiled

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# ``build_grid``: (x0, y0, cell, columns, rows, offsets, cells)
Grid = tuple[float, float, float, int, int, IntArray, IntArray]
# The nearest segment found so far: (squared distance, segment, nearest x, nearest y).
Found = tuple[float, int, float, float]

CHAIN_MAX = 6  # segments: longer chains are rarely thin, and cost more to test
_CELLS_ACROSS = 256  # the grid's cells along its longer side at most
# And per square root of the segments (a boundary is a line): coarse enough that a point's
# own cell usually holds its nearest segment (``_clearance``), fine enough to hold few.
_CELLS_PER_ROOT = 2.0
_MIN_CELL_M = 50.0
# Metres: far above the rounding of a cell's side (~1e-9 m at thousands of km from the
# origin), far below any distance measured.
_CELL_SIDE_SLACK_M = 1e-6


@dataclass(frozen=True)
class Boundary:
    """A zone's boundary segments in a plane (metres), gridded for nearest-segment searches."""

    starts: FloatArray
    ends: FloatArray
    ring: IntArray  # which ring each segment belongs to
    grid: Grid

    @classmethod
    def of(cls, starts: FloatArray, ends: FloatArray, ring: IntArray) -> Boundary:
        if len(starts) == 0:
            # Nothing is nearest to anything: the compiled loops would read outside the arrays.
            raise ValueError("a boundary needs at least one segment")
        starts, ends = np.ascontiguousarray(starts), np.ascontiguousarray(ends)
        across = max(1, min(_CELLS_ACROSS, int(math.sqrt(len(starts)) * _CELLS_PER_ROOT)))
        return cls(starts, ends, np.ascontiguousarray(ring), build_grid(starts, ends, across))

    def nearest(self, points: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
        """Each point's distance to the boundary, nearest segment and nearest point."""
        return nearest(np.ascontiguousarray(points), self.starts, self.ends, self.grid)

    def max_over(
        self,
        points: FloatArray,
        line: IntArray,
        group: IntArray,
        tolerance: FloatArray,
        relative: FloatArray,
    ) -> FloatArray:
        """``max_over`` for these knots (see there)."""
        if not np.isfinite(points).all():
            # A NaN's bounds compare false to every limit: its intervals would split forever.
            raise ValueError("knots must have finite coordinates")
        return max_over(
            np.ascontiguousarray(points),
            line,
            group,
            tolerance,
            relative,
            self.starts,
            self.ends,
            self.ring,
            self.grid,
        )


@compiled
def build_grid(starts: FloatArray, ends: FloatArray, across: int) -> Grid:
    """The grid over the segments, ``across`` cells along its longer side: (x0, y0, cell,
    columns, rows, offsets, cells)."""
    n = starts.shape[0]
    if n == 0:
        return 0.0, 0.0, 1.0, 1, 1, np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    x0 = min(starts[:, 0].min(), ends[:, 0].min())
    y0 = min(starts[:, 1].min(), ends[:, 1].min())
    x1 = max(starts[:, 0].max(), ends[:, 0].max())
    y1 = max(starts[:, 1].max(), ends[:, 1].max())
    side = max(x1 - x0, y1 - y0)
    cell = max(side / across, _MIN_CELL_M)
    columns = int((x1 - x0) / cell) + 1
    rows = int((y1 - y0) / cell) + 1
    counts = np.zeros(columns * rows + 1, dtype=np.int64)
    span = np.empty((n, 4), dtype=np.int64)
    for i in range(n):
        c0 = int((min(starts[i, 0], ends[i, 0]) - x0) / cell)
        c1 = int((max(starts[i, 0], ends[i, 0]) - x0) / cell)
        r0 = int((min(starts[i, 1], ends[i, 1]) - y0) / cell)
        r1 = int((max(starts[i, 1], ends[i, 1]) - y0) / cell)
        span[i, 0], span[i, 1], span[i, 2], span[i, 3] = c0, c1, r0, r1
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                counts[r * columns + c + 1] += 1
    offsets = np.cumsum(counts)
    filled = offsets[:-1].copy()
    cells = np.empty(offsets[-1], dtype=np.int64)
    for i in range(n):
        for r in range(span[i, 2], span[i, 3] + 1):
            for c in range(span[i, 0], span[i, 1] + 1):
                k = r * columns + c
                cells[filled[k]] = i
                filled[k] += 1
    return x0, y0, cell, columns, rows, offsets, cells


@compiled
def _squared_to_segment(
    px: float, py: float, starts: FloatArray, ends: FloatArray, i: int
) -> tuple[float, float, float]:
    """The squared distance from (px, py) to segment i, and the segment's point nearest it."""
    ax, ay = starts[i, 0], starts[i, 1]
    dx, dy = ends[i, 0] - ax, ends[i, 1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0
    if length2 > 0.0:
        t = min(max(((px - ax) * dx + (py - ay) * dy) / length2, 0.0), 1.0)
    qx, qy = ax + t * dx, ay + t * dy
    return (px - qx) * (px - qx) + (py - qy) * (py - qy), qx, qy


@compiled
def _closer(
    px: float, py: float, starts: FloatArray, ends: FloatArray, i: int, found: Found
) -> Found:
    """``found`` or segment i, whichever is nearer (px, py); of equals, the lower index."""
    d2, qx, qy = _squared_to_segment(px, py, starts, ends, i)
    if d2 < found[0] or (d2 == found[0] and i < found[1]):
        return d2, i, qx, qy
    return found


@compiled
def _nearest_one(
    px: float, py: float, starts: FloatArray, ends: FloatArray, grid: Grid
) -> tuple[float, int, float, float]:
    """(distance, segment, nearest x, nearest y) for one point: the grid's cells in square
    rings around the point's cell (its clamped cell, outside the grid) until no segment in
    a farther ring can be nearer than the best found. A segment nearer than ring r's inner
    edge lies in a ring before it: the point is at least its ``_clearance`` from cells r
    apart. Of equally near segments, the lowest index."""
    x0, y0, cell, columns, rows, offsets, cells = grid
    column = min(max(math.floor((px - x0) / cell), 0), columns - 1)
    row = min(max(math.floor((py - y0) / cell), 0), rows - 1)
    found = (np.inf, -1, 0.0, 0.0)
    widest = max(column, columns - 1 - column, row, rows - 1 - row)
    # Rings cost their cells: once they would hold more cells than there are segments,
    # every segment is read instead (a point far from the boundary).
    rings = min(widest, int(math.sqrt(starts.shape[0])) // 2)
    for r in range(rings + 1):
        if found[1] >= 0 and math.sqrt(found[0]) <= _clearance(px, py, grid, column, row, r - 1):
            break
        first_column, last_column = max(column - r, 0), min(column + r, columns - 1)
        for rr in range(max(row - r, 0), min(row + r, rows - 1) + 1):
            if rr == row - r or rr == row + r:
                # The ring's first and last rows whole: a row's cells are one run of
                # ``cells``, read without looking at each (far from the boundary, most
                # of a ring's cells are empty).
                k0, k1 = rr * columns + first_column, rr * columns + last_column
                for j in range(offsets[k0], offsets[k1 + 1]):
                    found = _closer(px, py, starts, ends, cells[j], found)
                continue
            # Between them, its two end cells.
            for cc in (column - r, column + r):
                if 0 <= cc < columns:
                    k = rr * columns + cc
                    for j in range(offsets[k], offsets[k + 1]):
                        found = _closer(px, py, starts, ends, cells[j], found)
    else:
        if rings < widest:
            for i in range(starts.shape[0]):
                found = _closer(px, py, starts, ends, i, found)
    return math.sqrt(found[0]), found[1], found[2], found[3]


@compiled
def _clearance(px: float, py: float, grid: Grid, column: int, row: int, reach: int) -> float:
    """How near (px, py) a segment outside the square of cells within ``reach`` rings of
    (column, row) can be: its distance to the square's sides, those at the grid's edge left
    out (no segment lies beyond them). At least reach·cell, the cells' own width, from a
    point in the middle cell; more by how far the point is from its cell's sides, which
    spares most points near the boundary the ring around their cell."""
    x0, y0, cell, columns, rows, _, _ = grid
    if reach < 0:
        return 0.0
    clear = np.inf
    if column - reach > 0:
        clear = min(clear, px - (x0 + (column - reach) * cell))
    if column + reach < columns - 1:
        clear = min(clear, x0 + (column + reach + 1) * cell - px)
    if row - reach > 0:
        clear = min(clear, py - (y0 + (row - reach) * cell))
    if row + reach < rows - 1:
        clear = min(clear, y0 + (row + reach + 1) * cell - py)
    # A segment's cells are found by rounded arithmetic: one may reach past its cell's side
    # by the rounding of a coordinate, never by the slack.
    return max(clear - _CELL_SIDE_SLACK_M, reach * cell)


@compiled
def nearest(
    points: FloatArray, starts: FloatArray, ends: FloatArray, grid: Grid
) -> tuple[FloatArray, IntArray, FloatArray]:
    """For each point: its distance to the boundary, the nearest segment, the nearest point."""
    n = points.shape[0]
    distance = np.empty(n)
    segment = np.empty(n, dtype=np.int64)
    closest = np.empty((n, 2))
    for p in range(n):
        d, i, qx, qy = _nearest_one(points[p, 0], points[p, 1], starts, ends, grid)
        distance[p], segment[p], closest[p, 0], closest[p, 1] = d, i, qx, qy
    return distance, segment, closest


@compiled
def _nearest_knots(
    points: FloatArray, starts: FloatArray, ends: FloatArray, grid: Grid
) -> tuple[FloatArray, IntArray, FloatArray]:
    """``nearest`` for knots, where a line's first knot is often the one before it again
    (consecutive edges of a polygon, each its own line): a repeat is given the same answer
    without a second search (the search is a function of the point alone)."""
    n = points.shape[0]
    distance = np.empty(n)
    segment = np.empty(n, dtype=np.int64)
    closest = np.empty((n, 2))
    for p in range(n):
        px, py = points[p, 0], points[p, 1]
        if p > 0 and px == points[p - 1, 0] and py == points[p - 1, 1]:
            distance[p], segment[p] = distance[p - 1], segment[p - 1]
            closest[p, 0], closest[p, 1] = closest[p - 1, 0], closest[p - 1, 1]
            continue
        d, i, qx, qy = _nearest_one(px, py, starts, ends, grid)
        distance[p], segment[p], closest[p, 0], closest[p, 1] = d, i, qx, qy
    return distance, segment, closest


@compiled
def _chain_width(starts: FloatArray, ends: FloatArray, ring: IntArray, sa: int, sb: int) -> float:
    """H for the chain of the boundary from segment ``sa`` to ``sb`` when it runs
    monotonically along its chord within a band of width H; infinite otherwise (see
    ``overshoot``)."""
    first, last = min(sa, sb), max(sa, sb)
    if last - first > CHAIN_MAX or ring[first] != ring[last]:
        return np.inf
    cx, cy = ends[last, 0] - starts[first, 0], ends[last, 1] - starts[first, 1]
    length = math.hypot(cx, cy)
    if not length > 0.0:
        return np.inf
    low, high = np.inf, -np.inf
    for k in range(first, last + 1):
        if (ends[k, 0] - starts[k, 0]) * cx + (ends[k, 1] - starts[k, 1]) * cy <= 0.0:
            return np.inf
        across = cx * (starts[k, 1] - starts[first, 1]) - cy * (starts[k, 0] - starts[first, 0])
        low, high = min(low, across), max(high, across)
    return (high - low) / length


@compiled
def _bound(
    ax: float,
    ay: float,
    fa: float,
    sa: int,
    qax: float,
    qay: float,
    bx: float,
    by: float,
    fb: float,
    sb: int,
    qbx: float,
    qby: float,
    starts: FloatArray,
    ends: FloatArray,
) -> float:
    """An upper bound of the distance to the boundary over [a, b] (see ``overshoot``)."""
    # Lipschitz: the distance to a set changes by at most the distance moved.
    bound = (fa + fb + math.hypot(bx - ax, by - ay)) / 2
    # The distance to one segment is convex along [a, b]: at most its larger end.
    bound = min(bound, max(fa, math.sqrt(_squared_to_segment(bx, by, starts, ends, sa)[0])))
    bound = min(bound, max(fb, math.sqrt(_squared_to_segment(ax, ay, starts, ends, sb)[0])))
    # Both nearest points are on the boundary: f ≤ min(|p − qa|, |p − qb|), which peaks
    # where the two are equal if not at an end (their squares differ linearly along a line).
    dx, dy = bx - ax, by - ay
    ux, uy = qbx - qax, qby - qay
    denominator = 2 * (dx * ux + dy * uy)
    numerator = (qbx * qbx + qby * qby) - (qax * qax + qay * qay) - 2 * (ax * ux + ay * uy)
    peak = max(fa, fb)
    if denominator != 0.0:
        t = numerator / denominator
        if 0.0 < t < 1.0:
            px, py = ax + dx * t, ay + dy * t
            peak = max(peak, math.hypot(px - qax, py - qay))
    return min(bound, peak)


@compiled
def max_over(
    points: FloatArray,
    line: IntArray,
    group: IntArray,
    tolerance: FloatArray,
    relative: FloatArray,
    starts: FloatArray,
    ends: FloatArray,
    ring: IntArray,
    grid: Grid,
) -> FloatArray:
    """The greatest distance to the boundary over each group's lines, found to within
    ``tolerance + relative × it``: the knots ``points`` (``line`` numbers each one's
    linestring, ``group`` its group; consecutive knots of one linestring bound an interval).

    Every knot is evaluated first (the best values rise early and close most intervals at
    once), then intervals are taken from a stack: one whose bound exceeds the limit is split
    in four and its three inner points evaluated. The best values only rise, so an interval
    closed against a lower limit stays closed."""
    n = points.shape[0]
    best = np.zeros(tolerance.shape[0])
    f, s, q = _nearest_knots(points, starts, ends, grid)
    for k in range(n):
        best[group[k]] = max(best[group[k]], f[k])
    # An interval: its two knots (x, y, f, segment, nearest x, nearest y) and its group.
    capacity = max(16, 2 * n)
    ends_a = np.empty((capacity, 6))
    ends_b = np.empty((capacity, 6))
    owner = np.empty(capacity, dtype=np.int64)
    top = 0
    for k in range(n - 1):
        if line[k] == line[k + 1]:
            _put(ends_a[top], points[k, 0], points[k, 1], f[k], s[k], q[k, 0], q[k, 1])
            _put(
                ends_b[top],
                points[k + 1, 0],
                points[k + 1, 1],
                f[k + 1],
                s[k + 1],
                q[k + 1, 0],
                q[k + 1, 1],
            )
            owner[top] = group[k]
            top += 1
    knots = np.empty((5, 6))
    while top > 0:
        top -= 1
        # Views, not copies (an allocation each, a good share of an interval's cost): the
        # slots are written again only once their knots are in ``knots``.
        a, b, g = ends_a[top], ends_b[top], owner[top]
        limit = best[g] * (1 + relative[g]) + tolerance[g]
        sa, sb = int(a[3]), int(b[3])
        bound = _bound(
            a[0], a[1], a[2], sa, a[4], a[5], b[0], b[1], b[2], sb, b[4], b[5], starts, ends
        )
        if bound <= limit:
            continue
        # The chain bound, dearer, only where the others leave the interval open.
        if max(a[2], b[2]) + _chain_width(starts, ends, ring, sa, sb) <= limit:
            continue
        knots[0, :] = a
        knots[4, :] = b
        for m in range(1, 4):
            px = a[0] + (b[0] - a[0]) * (m / 4)
            py = a[1] + (b[1] - a[1]) * (m / 4)
            d, i, qx, qy = _nearest_one(px, py, starts, ends, grid)
            _put(knots[m], px, py, d, i, qx, qy)
            best[g] = max(best[g], d)
        if top + 4 > ends_a.shape[0]:
            ends_a, ends_b, owner = _grown(ends_a), _grown(ends_b), _grown_int(owner)
        for m in range(4):
            ends_a[top, :] = knots[m]
            ends_b[top, :] = knots[m + 1]
            owner[top] = g
            top += 1
    return best


@compiled
def _put(row: FloatArray, x: float, y: float, f: float, s: int, qx: float, qy: float) -> None:
    row[0], row[1], row[2], row[3], row[4], row[5] = x, y, f, s, qx, qy


@compiled
def _grown(rows: FloatArray) -> FloatArray:
    bigger = np.empty((2 * rows.shape[0], rows.shape[1]))
    bigger[: rows.shape[0]] = rows
    return bigger


@compiled
def _grown_int(values: IntArray) -> IntArray:
    bigger = np.empty(2 * values.shape[0], dtype=np.int64)
    bigger[: values.shape[0]] = values
    return bigger
