"""How far a sent polygon reaches beyond the exact zone, in metres, onto land and over sea.

Pure geometry, no I/O. The parts outside Z of P's edges (over land, over sea) and of the
coasts inside P are projected to the ellipsoidal oblique stereographic plane centred on the
zone. That projection is conformal with a scale of 1 at the centre and more everywhere else
(1.004 at 600 km), so a distance in it is never less than the distance on the ellipsoid: the
figures stay upper bounds, and overstate by at most the scale. Their greatest distance to Z
is found by branch-and-bound: an interval [a, b] is split until an upper bound of the
distance over it falls within the tolerance of the best value seen. The bounds, each valid
on its own, the smallest kept:

- Lipschitz: distance to a set changes by at most the distance moved, (f(a) + f(b) + |ab|) / 2;
- the segment of Z's boundary nearest a (or b): distance to it is convex along [a, b];
- the two nearest points of Z: min(|p − qa|, |p − qb|) peaks where the two are equal;
- the chain of Z's boundary between the nearest segments: within a thin band of its chord,
  its hull is within the band's width of it (this one closes intervals along the zone's arc).

The reported figures are upper bounds within ``LAND_TOL_M`` (land) or ``SEA_TOL_M`` plus
0.8% (sea) of the true maxima over those lines. The search itself, and the nearest segment
of Z's boundary at each point, run compiled (``distance_search``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.distance_search import Boundary
from alert_engine.land_tiles import LandTiles
from alert_engine.stereographic import Stereographic
from alert_engine.territory import Territory
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

LAND_TOL_M = 5.0  # metres: far below the 161 m rule it is checked against
SEA_TOL_M = 10.0
SEA_RELATIVE = 0.008  # sea overshoot is tens of kilometres and harmless: 0.8% is plenty
_SAMPLE_DEG = 0.03  # lon/lat densification before projecting (≈ 3 km: chords within ~0.1 m)
_FIND_STEP_DEG = 3e-4  # ≈ 33 m: samples for finding where P reaches land too far


def measure_overshoot(
    polygon: BaseGeometry,
    field: DistanceField,
    territory: Territory,
    pieces: Sequence[shapely.Polygon],
) -> tuple[float, float]:
    """(land, sea): the greatest distance in metres from P ∩ land ∖ Z and from P ∩ sea to Z
    (``field``: the distance to Z).

    The maxima lie on the boundaries of those regions (unless Z surrounds a patch of outside
    land inside P): P's edges over land or sea, and the coasts inside P; a coast point belongs
    to both regions' boundaries. Points of Z are at distance 0, so what is measured need not
    leave them out: it only skips what is cheap to skip (``pieces`` are the zone's convex
    pieces, whose union clipped to the territory is Z).
    """
    over_land, over_sea, coasts = _measured_lines(polygon, territory, pieces)
    # One search for the three (each search has a fixed cost): a coast point belongs to both
    # the land's boundary and the sea's.
    land_m, sea_m, coast_m = field.max_over(
        [
            Measured(over_land, LAND_TOL_M),
            Measured(over_sea, SEA_TOL_M, relative=SEA_RELATIVE),
            Measured(coasts, LAND_TOL_M),
        ]
    )
    return max(land_m, coast_m), max(sea_m, coast_m)


def load_compiled() -> None:
    """Load the compiled search and projection (or compile them: seconds, the first time on
    a machine): ``footprint.load_compiled``."""
    square = shapely.box(0.0, 0.0, 0.01, 0.01)
    field = DistanceField(square, Point(lon=0.0, lat=0.0))
    field.max_over([Measured(shapely.LineString([(-0.01, -0.01), (0.02, 0.03)]), LAND_TOL_M)])
    field.nearest(field.project(np.array([[0.02, 0.03]])))  # where P is mended


def land_farther_than(
    polygon: BaseGeometry,
    field: DistanceField,
    territory: Territory,
    pieces: Sequence[shapely.Polygon],
    limit_m: float,
) -> FloatArray:
    """Where P reaches land more than about ``limit_m`` from Z: lon/lat points sampled every
    ``_FIND_STEP_DEG`` along the lines whose land overshoot ``measure_overshoot`` measures,
    those farther than ``limit_m`` less half a step (between two samples the distance can
    rise by no more). For finding where to mend P, not for measuring it."""
    over_land, _, coasts = _measured_lines(polygon, territory, pieces)
    lines = shapely.get_parts(shapely.segmentize([over_land, coasts], _FIND_STEP_DEG))
    lonlat: FloatArray = shapely.get_coordinates(lines)
    if len(lonlat) == 0:
        return lonlat
    distance = field.nearest(field.project(lonlat)).f
    step_m = _FIND_STEP_DEG * 111_320.0  # a degree of latitude or (less) of longitude
    far: FloatArray = lonlat[distance > limit_m - step_m / 2]
    return far


def _measured_lines(
    polygon: BaseGeometry, territory: Territory, pieces: Sequence[shapely.Polygon]
) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry]:
    """P's edges over land, P's edges over sea, and the coasts inside P outside the pieces."""
    shapely.prepare([polygon, *pieces])
    over_land, over_sea = _edges_by_surface(polygon, territory.land, territory.land_tiles)
    return over_land, over_sea, _coasts_inside(polygon, territory, pieces)


def _coasts_inside(
    polygon: BaseGeometry, territory: Territory, pieces: Sequence[shapely.Polygon]
) -> BaseGeometry:
    coasts = territory.coasts.outside_pieces(polygon, list(pieces))
    return coasts if coasts.is_empty else shapely.intersection(coasts, polygon)


def _edges_by_surface(
    polygon: BaseGeometry, prepared_land: BaseGeometry, tiles: LandTiles
) -> tuple[BaseGeometry, BaseGeometry]:
    """P's edges over land and over sea. Each edge is tested with the prepared land mask;
    only the few that cross a coast are cut by an overlay, on the land near them (from a
    tile: ``land_tiles``)."""
    rings = shapely.get_parts(shapely.boundary(polygon))  # holes too: an enclave's border
    coords, index = shapely.get_coordinates(rings, return_index=True)
    first = np.flatnonzero(index[:-1] == index[1:])  # each edge's first vertex
    # ``take`` rather than indexing: a 2-D array's rows cost several times more so.
    edges = shapely.linestrings(
        np.stack([np.take(coords, first, axis=0), np.take(coords, first + 1, axis=0)], axis=1)
    )
    on_land = shapely.covers(prepared_land, edges)
    touching = on_land.copy()
    touching[~on_land] = shapely.intersects(prepared_land, edges[~on_land])
    crossing = edges[touching & ~on_land]
    # Padded: the clipping rectangle's own edges must not pass for coasts on the edge.
    local = np.asarray([tiles.clip(*_padded(edge.bounds)) for edge in crossing], dtype=object)
    land_parts = np.concatenate([edges[on_land], _lines(shapely.intersection(crossing, local))])
    sea_parts = np.concatenate([edges[~touching], _lines(shapely.difference(crossing, local))])
    return _multiline(land_parts), _multiline(sea_parts)


def _padded(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = bounds
    return minx - 1e-3, miny - 1e-3, maxx + 1e-3, maxy + 1e-3


def _lines(overlaid: ObjectArray) -> ObjectArray:
    """The non-empty linestrings among overlay results (vectorised: there can be many)."""
    flat = shapely.get_parts(overlaid)
    keep = (shapely.get_type_id(flat) == 1) & ~shapely.is_empty(flat)
    lines: ObjectArray = flat[keep]
    return lines


def _multiline(lines: ObjectArray) -> BaseGeometry:
    return shapely.multilinestrings(lines) if len(lines) else shapely.MultiLineString()


class DistanceField:
    """Distance in metres to the exact zone, in the oblique stereographic plane of the centre."""

    def __init__(self, exact: BaseGeometry, center: Point) -> None:
        # ``sterea`` (the double projection) rather than ``stere``: its scale never drops
        # below 1, where ``stere``'s dips to 0.99999 and would understate distances.
        self._plane = Stereographic.at(center.lon, center.lat)
        points, ring = self.project_lines(shapely.boundary(exact))
        first = np.flatnonzero(ring[:-1] == ring[1:])  # each segment's first vertex
        # ``take`` rather than indexing: a 2-D array's rows cost several times more so.
        self._boundary = Boundary.of(
            np.take(points, first, axis=0), np.take(points, first + 1, axis=0), ring[first]
        )

    def project(self, lonlat: FloatArray) -> FloatArray:
        """Points in the conformal plane, metres (far cheaper than ``Geod.inv``)."""
        return self._plane.project(lonlat)

    def project_lines(self, lines: BaseGeometry) -> tuple[FloatArray, IntArray]:
        """The vertices of ``lines`` in the plane (densified first in lon/lat), and which
        linestring each belongs to: consecutive vertices of one linestring are its edges."""
        coords, index = _densified(lines)
        if len(coords) == 0:
            return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        return self.project(coords), index.astype(np.int64)

    def nearest(self, points: FloatArray) -> Nearest:
        """Distance to Z's boundary at each point, with the nearest segment and the nearest
        point on it (``distance_search.nearest``)."""
        f, segment, closest = self._boundary.nearest(points)
        return Nearest(points, f, segment, closest)

    def max_over(self, groups: Sequence[Measured]) -> list[float]:
        """For each group of lines, an upper bound (within its tolerance + relative × the
        result) of the distance to Z over them. One search for all groups
        (``distance_search.max_over``)."""
        xy, line, knot_group = self._project_groups(groups)
        present = np.zeros(len(groups), dtype=bool)
        present[knot_group[:-1][line[:-1] == line[1:]]] = True
        tolerance = np.array([g.tolerance for g in groups])
        relative = np.array([g.relative for g in groups])
        best = (
            self._boundary.max_over(xy, line, knot_group, tolerance, relative)
            if present.any()
            else np.zeros(len(groups))
        )
        return [
            float(m * (1 + g.relative) + g.tolerance) if has else 0.0
            for m, g, has in zip(best, groups, present, strict=True)
        ]

    def _project_groups(self, groups: Sequence[Measured]) -> tuple[FloatArray, IntArray, IntArray]:
        """``project_lines`` for all the groups' lines in one pass (each call has a fixed
        cost): the vertices, the linestring each belongs to (numbered across groups: an edge
        joins consecutive knots of one), and its group."""
        lines = np.asarray([g.lines for g in groups], dtype=object)
        parts, group = shapely.get_parts(shapely.segmentize(lines, _SAMPLE_DEG), return_index=True)
        coords, line = shapely.get_coordinates(parts, return_index=True)
        if len(coords) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return np.zeros((0, 2)), empty, empty
        return self.project(coords), line.astype(np.int64), group[line].astype(np.int64)


def _densified(lines: BaseGeometry) -> tuple[FloatArray, IntArray]:
    """The vertices of ``lines`` segmentized at ``_SAMPLE_DEG``, and which linestring each
    belongs to. Segmentizing copies the lines even where it adds nothing, as along a zone's
    detailed coast (most of its boundary): there the lines' own vertices are read."""
    coords, index = shapely.get_coordinates(shapely.get_parts(lines), return_index=True)
    if not _segmentize_changes(coords, index):
        return coords, index
    dense = shapely.get_parts(shapely.segmentize(lines, _SAMPLE_DEG))
    dense_coords, dense_index = shapely.get_coordinates(dense, return_index=True)
    return dense_coords, dense_index


def _segmentize_changes(coords: FloatArray, line: IntArray) -> bool:
    """Whether ``shapely.segmentize`` at ``_SAMPLE_DEG`` would change these linestrings: an
    edge to split (one as long as the step, within a margin far above its rounding), or a
    repeated point, which it drops."""
    edge = line[:-1] == line[1:]
    dx, dy = coords[1:, 0] - coords[:-1, 0], coords[1:, 1] - coords[:-1, 1]
    length2 = (dx * dx + dy * dy)[edge]
    if len(length2) == 0:
        return True  # no edge at all: left to shapely
    return bool(length2.max() >= (_SAMPLE_DEG * (1 - 1e-9)) ** 2 or length2.min() == 0.0)


@dataclass(frozen=True)
class Measured:
    """Lines whose greatest distance to Z is wanted, and how closely."""

    lines: BaseGeometry
    tolerance: float  # metres
    relative: float = 0.0  # and this share of the result


@dataclass(frozen=True)
class Nearest:
    """Points, with what is known of Z from each."""

    xy: FloatArray
    f: FloatArray  # distance to Z's boundary
    segment: IntArray  # nearest segment of Z's boundary
    closest: FloatArray  # nearest point of it
