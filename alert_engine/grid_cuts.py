"""A polygon over the vertex budget, cut along grid lines into parts that fit: pure geometry.

Each cut is a straight line of constant longitude or latitude on CAP's 6-decimal grid, run
through the widest gap between the polygon's vertices near where it is wanted. Both sides get
the same new vertices (so the parts tile the polygon, and rounding keeps them alike), and
none falls next to an old one.

Where the cut goes decides how many parts are sent, and parts are scarce:

- halving again and again wastes them (500 vertices at 100 a part: 250, 125, then 8 parts
  where 6 would do), so lines that cut off a piece of about one part's worth of vertices,
  or a few parts' worth, are tried beside the middle;
- a line across a wiggly border crosses it many times and leaves slivers, each a part: of
  the lines tried, the one whose pieces need the fewest parts wins;
- a hole (an enclave cut out) costs a part of its own when cut by a chord later, but none
  when a cut that is needed anyway runs through it: lines across each hole are tried too.
  Where cuts are wanted only to free the pieces of their holes (the pieces are then cut
  along their own diagonals), the middle and the lines across the holes are all that is
  tried: the other lines rarely win there, and each costs two clips.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

FloatArray = npt.NDArray[np.float64]

GRID_DEG = 1e-6  # CAP's 6 decimals (``alert_engine.cap``)
_MIN_GAP_DEG = 3e-5  # ≈ 3 m: a cut this close to a vertex would leave an edge under a metre
_HOLE_CUTS = 4  # the largest holes are tried; small ones are cut by the chords later
_FAR_DEG = 1.0  # beyond the bounds: the clipping rectangle's corners stay outside


def vertex_count(geometry: BaseGeometry) -> int:
    """GeoJSON ring vertices without the closing repeat, holes included."""
    if isinstance(geometry, shapely.Polygon) and not geometry.is_empty:  # most calls: one part
        rings = shapely.get_num_interior_rings(geometry) + 1
        return int(shapely.get_num_coordinates(geometry) - rings)
    rings = shapely.get_num_interior_rings(shapely.get_parts(geometry)) + 1
    return int(shapely.get_num_coordinates(geometry) - np.sum(rings))


def sent_cost(polygon: shapely.Polygon) -> int:
    """Vertices the polygon takes once sent: cutting out each hole adds about four."""
    return vertex_count(polygon) + 4 * len(polygon.interiors)


def _costs(
    pieces: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``sent_cost`` and the holes of each piece, in one vectorised pass (many are scored)."""
    holes = shapely.get_num_interior_rings(pieces)
    vertices = shapely.get_num_coordinates(pieces) - holes - 1
    return np.asarray(vertices + 4 * holes), np.asarray(holes)


def split_to_fit(
    polygon: shapely.Polygon, max_vertices: int, *, until_hole_free: bool = False
) -> list[shapely.Polygon]:
    """``polygon`` cut by grid lines, again and again until every part fits ``max_vertices``
    (``sent_cost``), or (``until_hole_free``) until every part that does not fit has no
    hole left, for the caller to cut by other means; of the lines tried, the one whose
    pieces need the fewest parts, then the one leaving the smallest piece largest, is taken
    at each step."""
    cost = sent_cost(polygon)
    if cost <= max_vertices or (until_hole_free and not polygon.interiors):
        return [polygon]
    coords = shapely.get_coordinates(polygon)
    values = [np.unique(coords[:, axis]) for axis in (0, 1)]
    lines = [
        line
        for axis, low, high in _candidate_windows(polygon, coords, max_vertices, until_hole_free)
        if (line := _cut_line(axis, values[axis], low, high)) is not None
    ]
    # A line found twice (a hole near the middle) is clipped once: the first of equals wins.
    lines = list(dict.fromkeys(lines))
    best = _best_halves(_halves(polygon, lines), max_vertices)
    if best is None or best[0][1] >= cost:
        return [polygon]  # no progress: the caller's budget check says it does not fit
    # Oriented only once chosen: most of the lines tried are not.
    return [
        q
        for h in best[1]
        for q in split_to_fit(orient(h, sign=1.0), max_vertices, until_hole_free=until_hole_free)
    ]


def _candidate_windows(
    polygon: shapely.Polygon, coords: FloatArray, max_vertices: int, holes_only: bool = False
) -> list[tuple[int, float, float]]:
    """(axis, low, high): a cut of that axis is wanted between low and high (``holes_only``:
    across the middle and the holes only)."""
    windows = []
    count = vertex_count(polygon)
    # Shares of the vertices: the middle, a little off it, and whole parts' worth from
    # either end (a piece of k parts, each filled to ~90% to leave room for the cut's ends).
    shares = {0.5}
    if not holes_only:
        shares |= {0.35, 0.65}
        fill = 0.9 * max_vertices / max(count, 1)
        for k in range(1, math.ceil(1 / fill) if fill > 0 else 1):
            if k * fill < 1:
                shares.update({k * fill, 1 - k * fill})
    for axis in (0, 1):
        values = np.sort(coords[:, axis])
        reach = max(len(values) // 16, 2)
        for share in sorted(shares):
            around = int(len(values) * share)
            lo = values[max(around - reach, 0)]
            hi = values[min(around + reach, len(values) - 1)]
            windows.append((axis, float(lo), float(hi)))
    holes = sorted(polygon.interiors, key=lambda r: -shapely.Polygon(r).area)[:_HOLE_CUTS]
    for ring in holes:
        minx, miny, maxx, maxy = ring.bounds
        windows += [(0, minx, maxx), (1, miny, maxy)]
    return windows


def _cut_line(axis: int, values: FloatArray, low: float, high: float) -> tuple[int, float] | None:
    """(axis, value): the grid line of ``axis`` through the widest gap between the polygon's
    vertices (``values``: their sorted coordinates on that axis) strictly between ``low``
    and ``high``; None if no gap there is wide enough."""
    between = values[np.searchsorted(values, low, "right") : np.searchsorted(values, high)]
    window = np.concatenate(([low], between, [high]))
    gaps = window[1:] - window[:-1]
    widest = int(gaps.argmax())
    if gaps[widest] < 2 * _MIN_GAP_DEG:
        return None
    a, b = float(window[widest]), float(window[widest + 1])
    cut = round((a + b) / 2, round(-math.log10(GRID_DEG)))
    if not a < cut < b:
        return None
    return axis, cut


def _halves(
    polygon: shapely.Polygon, lines: list[tuple[int, float]]
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
    """``polygon`` cut by each of the grid ``lines`` (``_cut_line``): the pieces on either
    side of all of them, each with its line's position in ``lines``, in order."""
    minx, miny, maxx, maxy = polygon.bounds
    far = _FAR_DEG
    clipped = np.empty(2 * len(lines), dtype=object)
    for k, (axis, cut) in enumerate(lines):
        if axis == 0:
            low = (minx - far, miny - far, cut, maxy + far)
            high = (cut, miny - far, maxx + far, maxy + far)
        else:
            low = (minx - far, miny - far, maxx + far, cut)
            high = (minx - far, cut, maxx + far, maxy + far)
        clipped[2 * k] = shapely.clip_by_rect(polygon, *low)
        clipped[2 * k + 1] = shapely.clip_by_rect(polygon, *high)
    # The parts of all the clipped sides at once: a call per side costs more than its work.
    parts, side = shapely.get_parts(clipped, return_index=True)
    polygons = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    return parts[polygons], side[polygons] // 2


def _best_halves(
    halves: tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]], max_vertices: int
) -> tuple[tuple[int, int], list[shapely.Polygon]] | None:
    """Of the lines that leave two pieces or more (``_halves``), the one whose pieces need the
    fewest parts, then the one whose costliest piece costs least: that score (parts, cost)
    and its pieces; None if no line leaves two."""
    pieces, line = halves
    if not len(pieces):
        return None
    costs, holes = _costs(pieces)
    tried = int(line.max()) + 1
    count = np.bincount(line, minlength=tried)
    needed = np.zeros(tried, dtype=np.int64)
    np.add.at(needed, line, -(-costs // max_vertices) + holes)
    largest = np.zeros(tried, dtype=np.int64)
    np.maximum.at(largest, line, costs)
    eligible = np.flatnonzero(count >= 2)
    if not len(eligible):
        return None
    chosen = min(eligible, key=lambda k: (needed[k], largest[k]))  # the first of equals
    return (int(needed[chosen]), int(largest[chosen])), list(pieces[line == chosen])
