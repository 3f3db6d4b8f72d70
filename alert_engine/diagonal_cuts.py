"""A hole-free polygon over the vertex budget, cut by its own diagonals into parts that fit.

Pure geometry. A diagonal joins two vertices the polygon already has and runs inside it, so a
cut adds no vertex: both parts share its ends, which are already on CAP's grid, and the parts
tile the polygon exactly. A part of k + 1 vertices takes k − 1 off what is left, so N
vertices need about N / (budget − 2) parts; a grid line (``alert_engine.grid_cuts``) adds
vertices where it crosses, and across a winding border it crosses many times and leaves
slivers that each cost a part.

Parts are peeled off along the ring one at a time: from a vertex, the farthest vertex within
the budget that the diagonal reaches inside the polygon closes the part. Where the ring
winds too much for a long diagonal from there, a few other starting vertices are tried.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.polygon import orient

FloatArray = npt.NDArray[np.float64]

_STARTS = 8  # starting vertices tried when the first gives a short part
_GOOD_SHARE = 0.8  # a part this full of the budget is taken without trying other starts
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
        cut = _longest_cut(ring, current, max_vertices)
        if cut is None:
            return None
        start, span = cut
        rolled = np.roll(ring, -start, axis=0)
        parts.append(shapely.Polygon(rolled[: span + 1]))
        ring = np.concatenate([rolled[span:], rolled[:1]])
    parts.append(shapely.Polygon(ring))
    return parts


def _longest_cut(
    ring: FloatArray, current: shapely.Polygon, max_vertices: int
) -> tuple[int, int] | None:
    """(start, span): the diagonal from ``ring[start]`` to ``ring[start + span]`` with the
    largest span under the budget that runs inside ``current`` and leaves two valid parts."""
    n = len(ring)
    spans = np.arange(max_vertices - 1, 1, -1)
    best: tuple[int, int] | None = None
    for start in (n * np.arange(_STARTS) // _STARTS).tolist():
        for span in _inside_spans(ring, current, start, spans):
            if best is not None and span <= best[1]:
                break
            if _splits_cleanly(ring, start, span):
                best = (start, span)
                break
        if best is not None and best[1] >= _GOOD_SHARE * (max_vertices - 1):
            return best
    return best


def _inside_spans(
    ring: FloatArray, current: shapely.Polygon, start: int, spans: npt.NDArray[np.int64]
) -> list[int]:
    """The spans (longest first) whose diagonal from ``start`` runs inside ``current``."""
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
