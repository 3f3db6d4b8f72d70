"""A polygon with few vertices between a region and that region grown by a width: pure geometry.

The allowed areas (``alert_engine.allowed_area``) must contain a region B and may reach at
most a width w beyond it. Simplifying B and then growing it (the obvious way) spends vertices
twice: the simplification follows every wiggle of B's border closer than its tolerance, and
the growth adds corners. Here every ring is instead drawn straight through the band between
B and B ⊕ w, as a path in a corridor: its vertices are taken from the band's middle line
(B ⊕ w/2) and each edge runs as far along it as it can while staying inside the band (off
B ⊕ ε, within B ⊕ w), which is the greedy farthest-reach rule of minimum-vertex
simplification. A wiggle smaller than the band costs no vertex at all.

Each step first doubles its reach (a few candidates per vectorised call) and then bisects
between the last edge that fits and the first that does not.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]

_UNTANGLE_ROUNDS = 4  # edges given their stretch back, then checked again
_COARSE_SHARE = 0.1  # of the width, how far the band's outer side may be drawn from the region
_BATCH = 32  # candidates left when bisection stops and the rest are tested at once
_DOUBLINGS = 4  # candidate edges tested per vectorised call
_QUAD_SEGS = 4  # the grown regions' round corners: finer costs time and no vertex of the result


def band_polygon(region: BaseGeometry, width: float, clearance: float) -> BaseGeometry:
    """A polygon P with region ⊕ clearance ⊆ P ⊆ region ⊕ width, with few vertices.

    ``region`` is planar (metres); ``clearance`` (under 0.3 w) keeps P's edges off the
    region itself, so that rounding P's coordinates later cannot uncover it. Falls back to
    the band's middle line itself (valid, in the band, more vertices) if the drawn polygon
    fails a check.
    """
    # The middle line lies between w/2 − 2s and w/2 from the region (s: the coarse share
    # below), and must stay clear of the clearance.
    if not 0 < clearance < width * (0.5 - 2 * _COARSE_SHARE):
        raise ValueError("the clearance must be positive and well under half the width")
    inner = shapely.buffer(region, clearance, quad_segs=_QUAD_SEGS)
    # Growing a detailed region far is slow, and the band's outer side needs no detail: the
    # region drawn within s and grown by w − s stays within w of it (and covers it while
    # s ≤ w/4), so both the outer side and the middle line are grown from that.
    coarse = width * _COARSE_SHARE
    drawn_region = shapely.simplify(region, coarse)
    outer = shapely.buffer(drawn_region, width - coarse, quad_segs=_QUAD_SEGS)
    middle = shapely.buffer(drawn_region, width / 2 - coarse, quad_segs=_QUAD_SEGS)
    shapely.prepare(inner)
    shapely.prepare(outer)
    corridor = _Corridor(inner, outer)
    rings = [
        (
            part,
            [_Ring(np.asarray(r.coords)[:-1], corridor) for r in (part.exterior, *part.interiors)],
        )
        for part in shapely.get_parts(middle)
    ]
    polygon = _polygon(rings)
    # Every edge was checked, but the stretch of middle line an edge replaces may enclose
    # what the band does not: a sliver of foreign land beyond w, or an islet of the region.
    # Those edges are given their stretch back (it lies in the band), once.
    wrong = _wrong(polygon, inner, outer)
    if wrong is not None:
        shapely.prepare(wrong)
        for _, part_rings in rings:
            for ring in part_rings:
                ring.restore_where(wrong)
        polygon = _polygon(rings)
        if _wrong(polygon, inner, outer) is not None:
            return middle
    return polygon


def _polygon(rings: list[tuple[BaseGeometry, list[_Ring]]]) -> BaseGeometry:
    """The drawn parts, untangled where two edges cross; a part still tangled is kept as
    its middle line."""
    drawn = []
    for part, part_rings in rings:
        for _ in range(_UNTANGLE_ROUNDS):
            shell, *holes = part_rings
            polygon = shapely.Polygon(shell.kept, [h.kept for h in holes])
            if polygon.is_valid or not _untangle(part_rings):
                break
        drawn.append(polygon if polygon.is_valid else part)
    return shapely.union_all(drawn)


def _untangle(rings: list[_Ring]) -> bool:
    """Give their stretch back to edges that cross or touch another edge (not their
    neighbours); whether any did."""
    edges: list[npt.NDArray[np.object_]] = []
    owners: list[tuple[int, int]] = []
    for r, ring in enumerate(rings):
        kept = ring.kept
        ends = np.roll(kept, -1, axis=0)
        edges.append(shapely.linestrings(np.stack([kept, ends], axis=1)))
        owners.extend((r, k) for k in range(len(kept)))
    lines = np.concatenate(edges)
    first, second = shapely.STRtree(lines).query(lines, predicate="intersects")
    tangled: set[tuple[int, int]] = set()
    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        (ra, ka), (rb, kb) = owners[a], owners[b]
        if ra == rb and (kb - ka) % len(rings[ra].indices) in (0, 1, len(rings[ra].indices) - 1):
            continue  # the same edge, or neighbours sharing a vertex
        tangled.update({(ra, ka), (rb, kb)})
    for r, ring in enumerate(rings):
        ring.restore_edges({k for (q, k) in tangled if q == r})
    return bool(tangled)


def _wrong(polygon: BaseGeometry, inner: BaseGeometry, outer: BaseGeometry) -> BaseGeometry | None:
    """Where ``polygon`` leaves the band (None if nowhere), or the polygon if it is invalid."""
    if not polygon.is_valid:
        return polygon
    if shapely.covers(outer, polygon) and shapely.covers(polygon, inner):
        return None
    return shapely.union(shapely.difference(polygon, outer), shapely.difference(inner, polygon))


class _Ring:
    """One ring of the middle line and the vertices kept of it."""

    def __init__(self, points: FloatArray, corridor: _Corridor) -> None:
        self.points = points
        self.indices = corridor.kept(points)

    @property
    def kept(self) -> FloatArray:
        return self.points[self.indices]

    def restore_where(self, wrong: BaseGeometry) -> None:
        """Put back every point of the stretches whose edge encloses part of ``wrong``."""
        enclosing = set()
        for k, stretch in enumerate(self._stretches()):
            if len(stretch) >= 3 and shapely.intersects(wrong, shapely.Polygon(stretch)):
                enclosing.add(k)
        self.restore_edges(enclosing)

    def restore_edges(self, edges: set[int]) -> None:
        """Put back every point of the stretches of the kept edges numbered ``edges``."""
        if not edges:
            return
        n = len(self.points)
        ends = [*self.indices[1:], n]
        indices: list[int] = []
        for k, (a, b) in enumerate(zip(self.indices, ends, strict=True)):
            indices.extend(range(a, b) if k in edges else [a])
        self.indices = indices

    def _stretches(self) -> list[FloatArray]:
        """For each kept edge, the points of the middle line it replaces, both ends included."""
        n = len(self.points)
        ends = [*self.indices[1:], n]
        return [
            self.points[np.arange(a, b + 1) % n] for a, b in zip(self.indices, ends, strict=True)
        ]


class _Corridor:
    """Which straight edges between points of the middle line stay inside the band."""

    def __init__(self, inner: BaseGeometry, outer: BaseGeometry) -> None:
        self._inner, self._outer = inner, outer

    def _fit(self, start: FloatArray, ends: FloatArray) -> npt.NDArray[np.bool_]:
        pairs = np.empty((len(ends), 2, 2))
        pairs[:, 0] = start
        pairs[:, 1] = ends
        edges = shapely.linestrings(pairs)
        fits: npt.NDArray[np.bool_] = ~shapely.intersects(self._inner, edges) & shapely.covers(
            self._outer, edges
        )
        return fits

    def kept(self, points: FloatArray) -> list[int]:
        """The indices of the vertices kept of a closed ring of ``points`` (no repeated
        closing point)."""
        n = len(points)
        if n < 4:
            return list(range(n))
        kept = [0]
        i = 0
        while i < n:
            i += self._reach(points, i, n)
            if i < n:
                kept.append(i)
        return kept if len(kept) >= 3 else list(range(n))

    def _reach(self, points: FloatArray, i: int, n: int) -> int:
        """How many points ahead of ``i`` the farthest edge that fits ends (at least 1)."""
        left = n - i  # steps to the ring's start, where the ring closes
        low, power = 0, 0
        while True:
            # A few doublings per call: long edges are the costly ones to test, and most
            # edges end within the first few.
            steps = [1 << k for k in range(power, power + _DOUBLINGS) if 1 << k < left]
            if len(steps) < _DOUBLINGS:
                steps.append(left)
            fits = self._fit(points[i], points[(i + np.asarray(steps)) % n])
            if fits.all():
                if steps[-1] == left:
                    return left
                low, power = steps[-1], power + _DOUBLINGS
                continue
            first_miss = int(np.argmin(fits))
            low = steps[first_miss - 1] if first_miss > 0 else low
            high = steps[first_miss]
            break
        while high - low > _BATCH:
            middle = (low + high) // 2
            if self._fit(points[i], points[(i + middle) % n][None, :])[0]:
                low = middle
            else:
                high = middle
        # The last few candidates in one call: the farthest before the first that fails.
        between = np.arange(low + 1, high)
        if len(between):
            fits = self._fit(points[i], points[(i + between) % n])
            low = int(between[-1]) if fits.all() else low + int(np.argmin(fits))
        return max(low, 1)  # not even the next point fits: it is kept (the middle line)
