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
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.polygon import orient

FloatArray = npt.NDArray[np.float64]

_STARTS = 8  # starting vertices tried when the first gives no part near the one wanted
# A part within this share of the budget of the one wanted is taken without trying other starts.
_SLACK = 0.2
_SHRINK = 1e-7  # of a diagonal's length, off each end: its inside is tested, not its ends


def peel_to_fit(polygon: shapely.Polygon, max_vertices: int) -> list[shapely.Polygon] | None:
    """``polygon`` (no holes) as parts of at most ``max_vertices`` vertices each that tile
    it, cut along its own diagonals; None where no diagonal can be found."""
    if polygon.interiors or max_vertices < 4:
        return None
    ring = np.asarray(orient(polygon, sign=1.0).exterior.coords)[:-1]
    parts: list[shapely.Polygon] = []
    while len(ring) > max_vertices:
        current = shapely.Polygon(ring)
        shapely.prepare(current)
        cut = _chosen_cut(ring, current, max_vertices)
        if cut is None:
            return None
        start, span = cut
        rolled = np.roll(ring, -start, axis=0)
        parts.append(shapely.Polygon(rolled[: span + 1]))
        ring = np.concatenate([rolled[span:], rolled[:1]])
    parts.append(shapely.Polygon(ring))
    return parts


def fewest_parts(vertices: int, max_vertices: int) -> int:
    """The fewest parts of at most ``max_vertices`` that diagonals can cut a ring of
    ``vertices`` into: a part of k vertices holds k − 2 of the ring's triangles."""
    return -(-(vertices - 2) // (max_vertices - 2))


def _chosen_cut(
    ring: FloatArray, current: shapely.Polygon, max_vertices: int
) -> tuple[int, int] | None:
    """(start, span): a diagonal from ``ring[start]`` to ``ring[start + span]`` that runs
    inside ``current`` and leaves two valid parts. Its span is, by preference, one that keeps
    the parts fewest (what is left needs one part fewer) and is nearest the one wanted: the
    longest under the budget, or an even share on the last cut; else the longest found."""
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
    best: tuple[tuple[bool, int], int, int] | None = None
    for start in (n * np.arange(_STARTS) // _STARTS).tolist():
        for span in _inside_spans(ring, current, start, spans):
            score = (span < shortest, abs(span - wanted) if span >= shortest else -span)
            if best is not None and score >= best[0]:
                break  # the spans come in order of preference: none left does better
            if _splits_cleanly(ring, start, span):
                best = (score, start, span)
                break
        if best is not None and not best[0][0] and best[0][1] <= _SLACK * (max_vertices - 1):
            break
    return (best[1], best[2]) if best is not None else None


def _inside_spans(
    ring: FloatArray, current: shapely.Polygon, start: int, spans: npt.NDArray[np.int64]
) -> list[int]:
    """The ``spans`` (in their order) whose diagonal from ``start`` runs inside ``current``."""
    n = len(ring)
    a = ring[start]
    b = ring[(start + spans) % n]
    # The diagonal's inside, its ends shrunk off: it must lie in the polygon's interior.
    near_a = a + (b - a) * _SHRINK
    near_b = b - (b - a) * _SHRINK
    inside = shapely.contains_properly(current, shapely.linestrings(np.stack([near_a, near_b], 1)))
    found: list[int] = spans[inside].tolist()
    return found


def _splits_cleanly(ring: FloatArray, start: int, span: int) -> bool:
    rolled = np.roll(ring, -start, axis=0)
    piece = shapely.Polygon(rolled[: span + 1])
    rest = shapely.Polygon(np.concatenate([rolled[span:], rolled[:1]]))
    return bool(piece.is_valid and rest.is_valid)
