"""A hole-free polygon over the vertex budget, cut by its own diagonals into parts that fit.

Pure geometry. A diagonal joins two vertices the polygon already has and runs inside it, so a
cut adds no vertex: both parts share its ends, which are already on CAP's grid, and the parts
tile the polygon exactly. A part of k + 1 vertices takes k − 1 off what is left, so N
vertices need about N / (budget − 2) parts; a grid line (``alert_engine.grid_cuts``) adds
vertices where it crosses, and across a winding border it crosses many times and leaves
slivers that each cost a part.

Parts are peeled off along the ring one at a time: from a vertex, a diagonal that runs inside
the polygon closes the part. The longest one within the budget is taken while more than two
parts are left to cut: full parts leave slack for the cuts after them, which a winding ring
may refuse their longest diagonal. The last cut shares what is left evenly: the longest
would leave a part of a few vertices (a sliver hundreds of kilometres long and a few
hundred metres wide) where two halves take no more parts. Where the ring winds too much for
such a diagonal from a vertex, a few other starting vertices are tried, and failing them
the longest diagonal found.

Whether a diagonal runs inside is asked in order of preference, and only until one is taken:
most cuts take one of the first few asked. It is decided by compiled sign tests, each exact
where its value is clear of its rounding error: does it meet one of the edges near it, and
does it leave its vertex on the inside of the ring's turn there (which says where the
interior lies only on a ring that does not touch itself: on another, GEOS decides). A
diagonal too close to call (along an edge, through a vertex) is left to GEOS, so every
answer is the one GEOS gives.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.polygon import orient

from alert_engine.compiled import compiled

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_STARTS = 8  # starting vertices tried when the first gives no part near the one wanted
# A part within this share of the budget of the one wanted is taken without trying other starts.
_SLACK = 0.2
_SHRINK = 1e-7  # of a diagonal's length, off each end: its inside is tested, not its ends
# A sign of a 2 × 2 determinant is certain when its value exceeds this share of its terms'
# magnitudes: (3 + 16ε)ε bounds the rounding of the differences, products and sum (ε = 2⁻⁵³),
# and three times that leaves a margin.
_SIGN_ERROR = 1e-15
# What the sign tests say of a diagonal (``_verdict``), and of it and an edge (``_meeting``);
# either may be too close to call.
_OUTSIDE, _INSIDE, _CLOSE = 0, 1, 2
_APART, _CROSSING = 0, 1


def peel_to_fit(polygon: shapely.Polygon, max_vertices: int) -> list[shapely.Polygon] | None:
    """``polygon`` (no holes) as parts of at most ``max_vertices`` vertices each that tile
    it, cut along its own diagonals; None where no diagonal can be found."""
    if polygon.interiors or max_vertices < 4:
        return None
    ring = np.asarray(orient(polygon, sign=1.0).exterior.coords)[:-1]
    parts: list[shapely.Polygon] = []
    rest: shapely.Polygon | None = None  # what the last cut left, once there is one
    # Checked once: what each cut leaves is checked valid (``_clean_split``).
    simple = len(ring) <= max_vertices or polygon.is_valid
    while len(ring) > max_vertices:
        cut = _chosen_cut(ring, max_vertices, simple)
        if cut is None:
            return None
        part, rest = cut
        parts.append(part)
        ring, simple = shapely.get_coordinates(rest)[:-1], True
    parts.append(shapely.polygons(ring) if rest is None else rest)
    return parts


def fewest_parts(vertices: int, max_vertices: int) -> int:
    """The fewest parts of at most ``max_vertices`` that diagonals can cut a ring of
    ``vertices`` into: a part of k vertices holds k − 2 of the ring's triangles."""
    return -(-(vertices - 2) // (max_vertices - 2))


def _chosen_cut(
    ring: FloatArray, max_vertices: int, simple: bool
) -> tuple[shapely.Polygon, shapely.Polygon] | None:
    """The part a diagonal from ``ring[start]`` to ``ring[start + span]`` closes and what it
    leaves (``_split``), where it runs inside the ring and leaves two valid parts. Its span
    is, by preference, one that keeps the parts fewest (what is left needs one part fewer)
    and is nearest the one wanted: the longest under the budget, or an even share on the
    last cut; else the longest found. (``simple``: the ring does not touch itself.)"""
    n = len(ring)
    parts = fewest_parts(n, max_vertices)
    # A part of span + 1 vertices leaves n − span + 1: shorter spans would need another part.
    shortest = max(2, n - 1 - (parts - 1) * (max_vertices - 2))
    wanted = max_vertices - 1 if parts > 2 else max(shortest, -(-(n - 2) // 2) + 1)
    spans = np.arange(max_vertices - 1, 1, -1)
    # Preferred first: spans that keep the parts fewest, nearest the one wanted (the longer
    # of two as near); then the others, longest first.
    wasteful = spans < shortest
    nearness = np.where(wasteful, -spans, np.abs(spans - wanted))
    spans = spans[np.lexsort((-spans, nearness, wasteful))]
    best: tuple[tuple[bool, int], tuple[shapely.Polygon, shapely.Polygon]] | None = None
    for start in (n * np.arange(_STARTS) // _STARTS).tolist():
        for span in _inside_spans(ring, start, spans, simple):
            score = (span < shortest, abs(span - wanted) if span >= shortest else -span)
            if best is not None and score >= best[0]:
                break  # the spans come in order of preference: none left does better
            if (split := _clean_split(ring, start, span)) is not None:
                best = (score, split)
                break
        if best is not None and not best[0][0] and best[0][1] <= _SLACK * (max_vertices - 1):
            break
    return best[1] if best is not None else None


def _inside_spans(ring: FloatArray, start: int, spans: IntArray, simple: bool) -> Iterator[int]:
    """The ``spans`` (in their order) whose diagonal from ``start`` runs inside the ring
    (counter-clockwise), each decided only when the caller asks for the next (``simple``:
    the ring does not touch itself; else GEOS decides each)."""
    n = len(ring)
    a = ring[start]
    b = ring[(start + spans) % n]
    # The diagonal's inside, its ends shrunk off: it must lie in the polygon's interior.
    near_a = a + (b - a) * _SHRINK
    near_b = b - (b - a) * _SHRINK
    polygon: shapely.Polygon | None = None  # built only for a diagonal too close to call
    # Only edges near a diagonal can meet it; the steps from ``a`` onto them (a ten-millionth
    # of their length) rarely come near any but the two at ``a``.
    edges = _edges_near(ring, a, near_a, near_b)
    steps = _edges_near(ring, a, near_a, near_a)
    k, verdict = _next_not_outside(ring, edges, steps, start, near_a, near_b, 0, simple)
    while k < len(spans):
        if verdict == _CLOSE:
            if polygon is None:
                polygon = shapely.Polygon(ring)
                shapely.prepare(polygon)
            diagonal = shapely.LineString([near_a[k], near_b[k]])
            verdict = _INSIDE if shapely.contains_properly(polygon, diagonal) else _OUTSIDE
        if verdict == _INSIDE:
            yield int(spans[k])
        k, verdict = _next_not_outside(ring, edges, steps, start, near_a, near_b, k + 1, simple)


def _clean_split(
    ring: FloatArray, start: int, span: int
) -> tuple[shapely.Polygon, shapely.Polygon] | None:
    """``_split`` where both its parts are valid (the one taken is kept: it is sent)."""
    part, rest = _split(ring, start, span)
    return (part, rest) if part.is_valid and rest.is_valid else None


def _split(ring: FloatArray, start: int, span: int) -> tuple[shapely.Polygon, shapely.Polygon]:
    """The part the diagonal from ``ring[start]`` to ``ring[start + span]`` closes, from its
    start, and what is left, from its far end."""
    n = len(ring)
    part = shapely.polygons(ring[(start + np.arange(span + 1)) % n])
    rest = shapely.polygons(ring[(start + span + np.arange(n - span + 1)) % n])
    return part, rest


@compiled
def _edges_near(
    ring: FloatArray, a: FloatArray, near_a: FloatArray, near_b: FloatArray
) -> IntArray:
    """The edges (``ring[i]`` to ``ring[i + 1]``) whose boxes meet the box around ``a`` and
    the ``near_a`` and ``near_b`` points: no other edge can meet a segment between two of
    them."""
    low, high = a.copy(), a.copy()
    for points in (near_a, near_b):
        for k in range(points.shape[0]):
            for axis in range(2):
                low[axis] = min(low[axis], points[k, axis])
                high[axis] = max(high[axis], points[k, axis])
    n = ring.shape[0]
    near = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        p, q = ring[i], ring[(i + 1) % n]
        if (
            max(p[0], q[0]) >= low[0]
            and min(p[0], q[0]) <= high[0]
            and max(p[1], q[1]) >= low[1]
            and min(p[1], q[1]) <= high[1]
        ):
            near[count] = i
            count += 1
    return near[:count]


@compiled
def _next_not_outside(
    ring: FloatArray,
    edges: IntArray,
    steps: IntArray,
    start: int,
    near_a: FloatArray,
    near_b: FloatArray,
    first: int,
    simple: bool,
) -> tuple[int, int]:
    """The first diagonal from ``first`` on (``near_a[k]`` to ``near_b[k]``, from
    ``ring[start]``) that the sign tests do not place outside the ring, and their
    ``_verdict`` on it; (count, _OUTSIDE) if none."""
    for k in range(first, near_a.shape[0]):
        verdict = _verdict(ring, edges, steps, start, near_a[k], near_b[k], simple)
        if verdict != _OUTSIDE:
            return k, verdict
    return near_a.shape[0], _OUTSIDE


@compiled
def _verdict(
    ring: FloatArray,
    edges: IntArray,
    steps: IntArray,
    start: int,
    a: FloatArray,
    b: FloatArray,
    simple: bool,
) -> int:
    """Whether the segment from ``a`` (a step from ``ring[start]``) to ``b`` lies in the
    interior of the polygon the ring bounds (``_INSIDE``), not (``_OUTSIDE``), or it is too
    close to call (``_CLOSE``): it lies inside when its start does and it meets no edge
    (of ``edges``, and ``steps`` for the step: the others are too far)."""
    if not simple:
        return _CLOSE  # only a simple ring's turn at a vertex says which side is inside
    start_side = _start_side(ring, steps, start, a)
    if start_side == _OUTSIDE:
        return _OUTSIDE
    n = ring.shape[0]
    close = start_side == _CLOSE
    for i in edges:
        meeting = _meeting(a, b, ring[i], ring[(i + 1) % n])
        if meeting == _CROSSING:
            return _OUTSIDE  # some of it lies beyond the edge
        close = close or meeting == _CLOSE
    return _CLOSE if close else _INSIDE


@compiled
def _start_side(ring: FloatArray, edges: IntArray, start: int, point: FloatArray) -> int:
    """Whether ``point``, a step from ``ring[start]``, lies inside the simple ring, outside,
    or too close to call. Near a vertex the ring's only edges are the two at it, so the
    step stays on its side of them unless it meets another (then: too close to call)."""
    n = ring.shape[0]
    before, vertex, after = ring[(start + n - 1) % n], ring[start], ring[(start + 1) % n]
    left_of_before, left_of_after = _side(before, vertex, point), _side(vertex, after, point)
    if left_of_before == 0 or left_of_after == 0:
        return _CLOSE
    if left_of_before == left_of_after:
        side = _INSIDE if left_of_before > 0 else _OUTSIDE
    else:
        turn = _side(before, vertex, after)
        if turn == 0:
            return _CLOSE
        # The interior lies left of each edge (counter-clockwise): at a convex corner left
        # of both, at a reflex one left of either.
        side = _OUTSIDE if turn > 0 else _INSIDE
    for i in edges:
        if i == (start + n - 1) % n or i == start:
            continue  # the step meets the vertex's own two edges at the vertex only
        if _meeting(vertex, point, ring[i], ring[(i + 1) % n]) != _APART:
            return _CLOSE
    return side


@compiled
def _meeting(a: FloatArray, b: FloatArray, p: FloatArray, q: FloatArray) -> int:
    """Whether segments ab and pq meet: ``_CROSSING`` (each strictly on either side of the
    other), ``_APART``, or ``_CLOSE`` (touching, collinear, or too close to call)."""
    if (
        max(a[0], b[0]) < min(p[0], q[0])
        or max(p[0], q[0]) < min(a[0], b[0])
        or max(a[1], b[1]) < min(p[1], q[1])
        or max(p[1], q[1]) < min(a[1], b[1])
    ):
        return _APART  # their boxes are apart (exact comparisons)
    side_p, side_q = _side(a, b, p), _side(a, b, q)
    if side_p != 0 and side_p == side_q:
        return _APART
    side_a, side_b = _side(p, q, a), _side(p, q, b)
    if side_a != 0 and side_a == side_b:
        return _APART
    if side_p != 0 and side_q != 0 and side_a != 0 and side_b != 0:
        return _CROSSING
    return _CLOSE


@compiled
def _side(p: FloatArray, q: FloatArray, r: FloatArray) -> int:
    """Which side of the line pq ``r`` lies on: 1 left, -1 right, 0 on it or too close to
    call (the determinant within its rounding error)."""
    left = (p[0] - r[0]) * (q[1] - r[1])
    right = (p[1] - r[1]) * (q[0] - r[0])
    determinant = left - right
    error = _SIGN_ERROR * (abs(left) + abs(right))
    if determinant > error:
        return 1
    if determinant < -error:
        return -1
    return 0
