"""The coasts as an index of segments, built once per territory: pure geometry, no I/O.

Measuring a zone's overshoot looks at the coasts inside the sent polygon (``overshoot``). An
overlay of the detailed coastline with the exact zone costs milliseconds, because most of
that coast *is* the zone's boundary and overlays are slow on overlapping edges. Segments
answer the same question with vectorised predicates: a segment of the territory's coast with
both ends inside one convex piece of the zone lies in the exact zone, and can be skipped.

Thousands of segments lie near a zone, most of them deep inside a piece or far outside the
sent polygon, so runs of consecutive segments are indexed too (their bounding boxes): a run
whose box lies inside a geometry or misses it settles all its segments with one predicate,
and only the runs the geometry's edge crosses are tested segment by segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
ObjectArray = npt.NDArray[np.object_]

# Degrees (~1 cm): a coast segment this close to the territory is on the territory's coast.
_ON_TERRITORY_DEG = 1e-7
# Segments per run: a run of a few kilometres of coast is mostly settled whole, and there
# are few enough near a zone that testing their boxes costs less than testing each segment.
_RUN_SEGMENTS = 32
# What a run's box says of its segments (``_runs_against``).
_INSIDE, _UNDECIDED, _OUTSIDE = 1, 0, -1


@dataclass(frozen=True)
class Coasts:
    points: FloatArray  # (m, 2) lon/lat: the rings' vertices, in order
    first: IntArray  # (n,) each segment's start in ``points``; its end is the next point
    of_territory: BoolArray  # False: the coast of foreign land (Spain, the islets, …)
    tree: shapely.STRtree
    runs: ObjectArray  # the box of segments k·_RUN_SEGMENTS onwards, for each k

    @classmethod
    def of(cls, national: BaseGeometry, land: BaseGeometry) -> Coasts:
        """Every segment of the land's boundary (its coasts: the land borders between the
        territory and foreign land are inside ``land``), flagged by whose coast it is."""
        coords, index = shapely.get_coordinates(
            shapely.get_parts(shapely.get_parts(shapely.boundary(land))), return_index=True
        )
        same = index[:-1] == index[1:]
        first = np.flatnonzero(same)
        starts, ends = coords[first], coords[first + 1]
        middles = shapely.points((starts + ends) / 2)
        of_territory = shapely.dwithin(national, middles, _ON_TERRITORY_DEG)
        lines = shapely.linestrings(
            np.stack([starts, ends], axis=1).reshape(-1, 2),
            indices=np.repeat(np.arange(len(starts)), 2),
        )
        tree = shapely.STRtree(lines)
        return cls(coords, first, np.asarray(of_territory), tree, _run_boxes(starts, ends))

    def outside_pieces(
        self, area: BaseGeometry, pieces: list[shapely.Polygon]
    ) -> shapely.MultiLineString:
        """The coasts within ``area`` that may lie outside the exact zone (the territory's
        coast inside ``pieces``, each convex, is in it): foreign coasts, and the
        territory's coast beyond the pieces."""
        near = self.tree.query(shapely.box(*area.bounds))
        inside = np.zeros(len(near), dtype=bool)
        for piece in pieces:
            shapely.prepare(piece)
            inside |= self._inside(piece, near)
        kept = near[~(inside & self.of_territory[near])]
        shapely.prepare(area)
        return shapely.multilinestrings(self.tree.geometries[kept[self._meeting(area, kept)]])

    def _inside(self, piece: shapely.Polygon, segments: IntArray) -> BoolArray:
        """Whether each segment has both ends inside ``piece`` (prepared)."""
        state = _runs_against(piece, self.runs, segments // _RUN_SEGMENTS)
        inside: BoolArray = state == _INSIDE
        undecided = np.flatnonzero(state == _UNDECIDED)
        start = self.first[segments[undecided]]
        # Consecutive segments share a point: each is tested once (half the work).
        wanted = np.zeros(len(self.points), dtype=bool)
        wanted[start] = wanted[start + 1] = True
        tested = np.flatnonzero(wanted)
        in_piece = np.zeros(len(self.points), dtype=bool)
        in_piece[tested] = shapely.contains_xy(piece, *self.points[tested].T)
        inside[undecided] = in_piece[start] & in_piece[start + 1]
        return inside

    def _meeting(self, area: BaseGeometry, segments: IntArray) -> BoolArray:
        """Whether each segment intersects ``area`` (prepared)."""
        state = _runs_against(area, self.runs, segments // _RUN_SEGMENTS)
        meets: BoolArray = state == _INSIDE
        undecided = np.flatnonzero(state == _UNDECIDED)
        meets[undecided] = shapely.intersects(area, self.tree.geometries[segments[undecided]])
        return meets


def _run_boxes(starts: FloatArray, ends: FloatArray) -> ObjectArray:
    """The bounding box of each run of ``_RUN_SEGMENTS`` consecutive segments."""
    if len(starts) == 0:
        return np.empty(0, dtype=object)
    first = np.arange(0, len(starts), _RUN_SEGMENTS)
    low = np.minimum.reduceat(np.minimum(starts, ends), first)
    high = np.maximum.reduceat(np.maximum(starts, ends), first)
    boxes: ObjectArray = shapely.box(low[:, 0], low[:, 1], high[:, 0], high[:, 1])
    return boxes


def _runs_against(geometry: BaseGeometry, boxes: ObjectArray, run: IntArray) -> Int8Array:
    """For each of the runs ``run`` (one per segment): ``_INSIDE`` when its box lies in the
    interior of ``geometry`` (prepared), and so every point of its segments; ``_OUTSIDE``
    when the box misses it; else ``_UNDECIDED``. Each run's box is tested once."""
    present = np.zeros(len(boxes), dtype=bool)
    present[run] = True
    tested = np.flatnonzero(present)
    candidates = boxes[tested]
    state = np.full(len(boxes), _OUTSIDE, dtype=np.int8)
    inside = shapely.contains_properly(geometry, candidates)
    state[tested[inside]] = _INSIDE
    # A box inside meets the geometry: only the others are tested for meeting it.
    others = tested[~inside]
    state[others[shapely.intersects(geometry, boxes[others])]] = _UNDECIDED
    by_segment: Int8Array = state[run]
    return by_segment
