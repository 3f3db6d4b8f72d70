"""The coasts as an index of segments, built once per territory: pure geometry, no I/O.

Measuring a zone's overshoot looks at the coasts inside the sent polygon (``overshoot``). An
overlay of the detailed coastline with the exact zone costs milliseconds, because most of
that coast *is* the zone's boundary and overlays are slow on overlapping edges. Segments
answer the same question with vectorised predicates: a segment of the territory's coast with
both ends inside one convex piece of the zone lies in the exact zone, and can be skipped.
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

# Degrees (~1 cm): a coast segment this close to the territory is on the territory's coast.
_ON_TERRITORY_DEG = 1e-7


@dataclass(frozen=True)
class Coasts:
    points: FloatArray  # (m, 2) lon/lat: the rings' vertices, in order
    first: IntArray  # (n,) each segment's start in ``points``; its end is the next point
    of_territory: BoolArray  # False: the coast of foreign land (Spain, the islets, …)
    tree: shapely.STRtree

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
        return cls(coords, first, np.asarray(of_territory), shapely.STRtree(lines))

    def outside_pieces(
        self, area: BaseGeometry, pieces: list[shapely.Polygon]
    ) -> shapely.MultiLineString:
        """The coasts within ``area`` that may lie outside the exact zone (the territory's
        coast inside ``pieces``, each convex, is in it): foreign coasts, and the
        territory's coast beyond the pieces."""
        near = self.tree.query(shapely.box(*area.bounds))
        start = self.first[near]
        # Consecutive segments share a point: each is tested once (half the work).
        wanted = np.zeros(len(self.points), dtype=bool)
        wanted[start] = wanted[start + 1] = True
        tested = np.flatnonzero(wanted)
        inside = np.zeros(len(near), dtype=bool)
        for piece in pieces:
            shapely.prepare(piece)
            in_piece = np.zeros(len(self.points), dtype=bool)
            in_piece[tested] = shapely.contains_xy(piece, *self.points[tested].T)
            inside |= in_piece[start] & in_piece[start + 1]
        kept = self.tree.geometries[near[~(inside & self.of_territory[near])]]
        shapely.prepare(area)
        return shapely.multilinestrings(kept[shapely.intersects(area, kept)])
