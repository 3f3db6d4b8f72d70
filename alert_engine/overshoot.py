"""How far a sent polygon reaches beyond the exact zone, in metres, onto land and over sea.

Pure geometry, no I/O. The boundaries of P ∩ land and P ∖ land (P's edges and the coasts
inside P) are projected to the ellipsoidal azimuthal equidistant plane centred on the zone
(via ``Geod.inv``: distance and azimuth from the centre) and their distance to Z is maximised
by branch-and-bound. Two upper bounds prune an interval [a, b]: distance to a set changes by
at most the distance moved (Lipschitz: (f(a) + f(b) + |ab|) / 2), and the distance to one
segment s of Z's boundary is convex along [a, b] and bounds the distance to Z from above
(max(d(a, s), d(b, s)) for the segments nearest a and b). The reported figure is an upper
bound within ``LAND_TOL_M`` (land) or ``SEA_TOL_M`` (sea) of the true maximum over those
boundaries.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from alert_engine.territory import Territory
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]

LAND_TOL_M = 5.0  # metres: far below the 161 m rule it is checked against
SEA_TOL_M = 10.0
_SEA_RELATIVE = 0.008  # sea overshoot is tens of kilometres and harmless: 0.8% is plenty
_SAMPLE_DEG = 0.03  # lon/lat densification before projecting (≈ 3 km: chords within ~0.1 m)
_GEOD = Geod(ellps="WGS84")


def measure_overshoot(
    polygon: BaseGeometry, exact: BaseGeometry, territory: Territory, center: Point
) -> tuple[float, float]:
    """(land, sea): the greatest distance in metres from P ∩ land ∖ Z and from P ∩ sea to Z.

    The maxima lie on the boundaries of those regions (unless Z surrounds a patch of outside
    land inside P): P's edges over land or sea, and the coasts inside P. Only the parts of
    them outside Z are measured; a coast point belongs to both regions' boundaries.
    """
    # Padded: the clipping rectangle's own edges must not pass for coasts inside P.
    minx, miny, maxx, maxy = polygon.bounds
    land = shapely.clip_by_rect(territory.land, minx - 0.01, miny - 0.01, maxx + 0.01, maxy + 0.01)
    edges = shapely.boundary(polygon)
    shapely.prepare(exact)
    over_land = _outside(shapely.intersection(edges, land), exact)
    over_sea = shapely.difference(edges, land)
    coasts = _outside(shapely.intersection(shapely.boundary(land), polygon), exact)
    if over_land.is_empty and over_sea.is_empty and coasts.is_empty:
        return 0.0, 0.0
    field = DistanceField(exact, center)
    coast_m = field.max_over(coasts, LAND_TOL_M)
    return (
        max(field.max_over(over_land, LAND_TOL_M), coast_m),
        max(field.max_over(over_sea, SEA_TOL_M, relative=_SEA_RELATIVE), coast_m),
    )


def _outside(lines: BaseGeometry, exact: BaseGeometry) -> BaseGeometry:
    return shapely.difference(lines, exact) if not lines.is_empty else lines


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Only the areal parts (overlays can return stray points or lines on shared edges)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = shapely.get_parts(geometry)
    polygons = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if polygons else shapely.Polygon()


class DistanceField:
    """Distance in metres to the exact zone, in the azimuthal equidistant plane of the centre."""

    def __init__(self, exact: BaseGeometry, center: Point) -> None:
        self._center = center
        starts, ends = _segments(self.project_lines(shapely.boundary(exact)))
        self._starts, self._ends = starts, ends
        self._tree = shapely.STRtree(
            shapely.linestrings(
                np.stack([starts, ends], axis=1).reshape(-1, 2),
                indices=np.repeat(np.arange(len(starts)), 2),
            )
        )

    def project(self, lonlat: FloatArray) -> FloatArray:
        """Ellipsoidal azimuthal equidistant: exact distance and azimuth from the centre."""
        n = len(lonlat)
        azimuth, _, distance = _GEOD.inv(
            np.full(n, self._center.lon), np.full(n, self._center.lat), lonlat[:, 0], lonlat[:, 1]
        )
        radians = np.radians(np.asarray(azimuth))
        distance = np.asarray(distance)
        return np.column_stack([distance * np.sin(radians), distance * np.cos(radians)])

    def project_lines(self, lines: BaseGeometry) -> list[FloatArray]:
        """Each linestring of ``lines`` as an AEQD polyline (densified first in lon/lat)."""
        dense = shapely.segmentize(lines, _SAMPLE_DEG)
        coords, index = shapely.get_coordinates(shapely.get_parts(dense), return_index=True)
        if len(coords) == 0:
            return []
        projected = self.project(coords)
        cuts = np.flatnonzero(np.diff(index)) + 1
        return [p for p in np.split(projected, cuts) if len(p) >= 2]

    def nearest(self, points: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
        """Distance to Z and the index of the nearest segment of Z's boundary."""
        if len(points) == 0:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        pairs = self._tree.query_nearest(shapely.points(points), all_matches=False)
        nearest = np.empty(len(points), dtype=np.int64)
        nearest[pairs[0]] = pairs[1]
        return self._to_segment(points, nearest), nearest

    def _to_segment(self, points: FloatArray, segment: npt.NDArray[np.int64]) -> FloatArray:
        return _point_segment_distance(points, self._starts[segment], self._ends[segment])

    def max_over(self, lines: BaseGeometry, tolerance: float, relative: float = 0.0) -> float:
        """Upper bound (within ``tolerance`` + ``relative`` × the result) of the distance to Z
        over ``lines``."""
        polylines = self.project_lines(lines)
        if not polylines:
            return 0.0
        # Each knot once: a polyline's inner knots end one interval and start the next.
        knots = np.concatenate(polylines)
        f_knot, s_knot = self.nearest(knots)
        last = np.cumsum([len(p) for p in polylines]) - 1
        is_start = np.ones(len(knots), dtype=bool)
        is_start[last] = False
        is_end = np.roll(is_start, 1)
        starts, ends = knots[is_start], knots[is_end]
        f_start, s_start = f_knot[is_start], s_knot[is_start]
        f_end, s_end = f_knot[is_end], s_knot[is_end]
        best = float(max(f_start.max(), f_end.max()))
        while len(starts):
            length = np.hypot(*(ends - starts).T)
            lipschitz = (f_start + f_end + length) / 2
            # The distance to one segment is convex along [a, b]: at most its larger end.
            via_start = np.maximum(f_start, self._to_segment(ends, s_start))
            via_end = np.maximum(f_end, self._to_segment(starts, s_end))
            bound = np.minimum(lipschitz, np.minimum(via_start, via_end))
            open_ = bound > best * (1 + relative) + tolerance
            if not open_.any():
                break
            starts, ends = starts[open_], ends[open_]
            f_start, f_end = f_start[open_], f_end[open_]
            s_start, s_end = s_start[open_], s_end[open_]
            # Split each open interval in four and evaluate the three inner points.
            t = np.array([0.25, 0.5, 0.75])
            inner = starts[:, None, :] + (ends - starts)[:, None, :] * t[None, :, None]
            f_flat, s_flat = self.nearest(inner.reshape(-1, 2))
            f_inner, s_inner = f_flat.reshape(-1, 3), s_flat.reshape(-1, 3)
            best = max(best, float(f_inner.max()))
            knots = np.concatenate([starts[:, None], inner, ends[:, None]], axis=1)
            f_knots = np.concatenate([f_start[:, None], f_inner, f_end[:, None]], axis=1)
            s_knots = np.concatenate([s_start[:, None], s_inner, s_end[:, None]], axis=1)
            starts, ends = knots[:, :-1].reshape(-1, 2), knots[:, 1:].reshape(-1, 2)
            f_start, f_end = f_knots[:, :-1].ravel(), f_knots[:, 1:].ravel()
            s_start, s_end = s_knots[:, :-1].ravel(), s_knots[:, 1:].ravel()
        return best * (1 + relative) + tolerance


def _segments(polylines: list[FloatArray]) -> tuple[FloatArray, FloatArray]:
    if not polylines:
        return np.zeros((0, 2)), np.zeros((0, 2))
    starts = np.concatenate([p[:-1] for p in polylines])
    ends = np.concatenate([p[1:] for p in polylines])
    return starts, ends


def _point_segment_distance(p: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.einsum("ij,ij->i", p - a, ab) / np.where(length2 > 0, length2, 1.0)
    closest = a + ab * np.clip(t, 0.0, 1.0)[:, None]
    return np.asarray(np.hypot(*(p - closest).T))
