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
0.8% (sea) of the true maxima over those lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from alert_engine.land_tiles import LandTiles
from alert_engine.territory import Territory
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LAND_TOL_M = 5.0  # metres: far below the 161 m rule it is checked against
SEA_TOL_M = 10.0
# Metres: the box queries' reaches, a near one first (overshoot onto land is mostly less),
# then a wider one for the points it left farther: fewer candidates for most points.
_REACHES_M = (250.0, 1500.0)
_CHAIN_MAX = 6  # segments: longer chains are rarely thin, and cost more to test
_SEA_RELATIVE = 0.008  # sea overshoot is tens of kilometres and harmless: 0.8% is plenty
_CHUNK_SEGMENTS = 8  # Z's boundary segments per indexed run (``_Chunks``)
_SAMPLE_DEG = 0.03  # lon/lat densification before projecting (≈ 3 km: chords within ~0.1 m)
_FIND_STEP_DEG = 3e-4  # ≈ 33 m: samples for finding where P reaches land too far


def measure_overshoot(
    polygon: BaseGeometry,
    exact: BaseGeometry,
    territory: Territory,
    center: Point,
    pieces: Sequence[shapely.Polygon],
) -> tuple[float, float]:
    """(land, sea): the greatest distance in metres from P ∩ land ∖ Z and from P ∩ sea to Z.

    The maxima lie on the boundaries of those regions (unless Z surrounds a patch of outside
    land inside P): P's edges over land or sea, and the coasts inside P; a coast point belongs
    to both regions' boundaries. Points of Z are at distance 0, so what is measured need not
    leave them out: it only skips what is cheap to skip (``pieces`` are the zone's convex
    pieces, whose union clipped to the territory is Z).
    """
    over_land, over_sea, coasts = _measured_lines(polygon, territory, pieces)
    if over_land.is_empty and over_sea.is_empty and coasts.is_empty:
        return 0.0, 0.0
    field = DistanceField(exact, center)
    land_m, sea_m, coast_m = field.max_over(
        [
            Measured(over_land, LAND_TOL_M),
            Measured(over_sea, SEA_TOL_M, relative=_SEA_RELATIVE),
            Measured(coasts, LAND_TOL_M),
        ]
    )
    return max(land_m, coast_m), max(sea_m, coast_m)


def land_farther_than(
    polygon: BaseGeometry,
    exact: BaseGeometry,
    territory: Territory,
    center: Point,
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
    field = DistanceField(exact, center)
    distance = field.nearest(field.project(lonlat)).f
    step_m = _FIND_STEP_DEG * 111_320.0  # a degree of latitude or (less) of longitude
    far: FloatArray = lonlat[distance > limit_m - step_m / 2]
    return far


def _measured_lines(
    polygon: BaseGeometry, territory: Territory, pieces: Sequence[shapely.Polygon]
) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry]:
    """P's edges over land, P's edges over sea, and the coasts inside P outside the pieces."""
    over_land, over_sea = _edges_by_surface(polygon, territory.land, territory.land_tiles)
    coasts = territory.coasts.outside_pieces(polygon, list(pieces))
    if not coasts.is_empty:
        coasts = shapely.intersection(coasts, polygon)
    return over_land, over_sea, coasts


def _edges_by_surface(
    polygon: BaseGeometry, prepared_land: BaseGeometry, tiles: LandTiles
) -> tuple[BaseGeometry, BaseGeometry]:
    """P's edges over land and over sea. Each edge is tested with the prepared land mask;
    only the few that cross a coast are cut by an overlay, on the land near them (from a
    tile: ``land_tiles``)."""
    rings = shapely.get_parts(shapely.boundary(polygon))  # holes too: an enclave's border
    coords, index = shapely.get_coordinates(rings, return_index=True)
    same = index[:-1] == index[1:]
    edges = shapely.linestrings(
        np.stack([coords[:-1][same], coords[1:][same]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(int(same.sum())), 2),
    )
    on_land = shapely.covers(prepared_land, edges)
    touching = shapely.intersects(prepared_land, edges)
    crossing = edges[touching & ~on_land]
    land_parts = list(edges[on_land])
    sea_parts = list(edges[~touching])
    for edge in crossing:
        # Padded: the clipping rectangle's own edges must not pass for coasts on the edge.
        local = tiles.clip(*_padded(edge.bounds))
        land_parts.append(shapely.intersection(edge, local))
        sea_parts.append(shapely.difference(edge, local))
    return _lines(land_parts), _lines(sea_parts)


def _padded(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = bounds
    return minx - 1e-3, miny - 1e-3, maxx + 1e-3, maxy + 1e-3


def _lines(parts: list[BaseGeometry]) -> BaseGeometry:
    """The linear parts of overlay results, as one geometry (vectorised: there are many)."""
    if not parts:
        return shapely.MultiLineString()
    flat = shapely.get_parts(np.asarray(parts, dtype=object))
    keep = (shapely.get_type_id(flat) == 1) & ~shapely.is_empty(flat)
    return shapely.multilinestrings(flat[keep]) if keep.any() else shapely.MultiLineString()


class DistanceField:
    """Distance in metres to the exact zone, in the oblique stereographic plane of the centre."""

    def __init__(self, exact: BaseGeometry, center: Point) -> None:
        # ``sterea`` (the double projection) rather than ``stere``: its scale never drops
        # below 1, where ``stere``'s dips to 0.99999 and would understate distances.
        self._to_plane = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad"
            f" +step +proj=sterea +lat_0={center.lat!r} +lon_0={center.lon!r} +ellps=WGS84"
        )
        points, ring = self.project_lines(shapely.boundary(exact))
        inner = ring[:-1] == ring[1:]
        self._starts, self._ends = points[:-1][inner], points[1:][inner]
        # Which ring each segment belongs to: consecutive segments of one ring form chains.
        self._ring = ring[:-1][inner]
        self._edges = _Edges.of(self._starts, self._ends)
        self._chunks = _Chunks.of(self._starts, self._ends, self._ring)

    def project(self, lonlat: FloatArray) -> FloatArray:
        """Points in the conformal plane, metres (about five times cheaper than ``Geod.inv``)."""
        x, y = self._to_plane.transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])

    def project_lines(self, lines: BaseGeometry) -> tuple[FloatArray, IntArray]:
        """The vertices of ``lines`` in the plane (densified first in lon/lat), and which
        linestring each belongs to: consecutive vertices of one linestring are its edges."""
        dense = shapely.segmentize(lines, _SAMPLE_DEG)
        coords, index = shapely.get_coordinates(shapely.get_parts(dense), return_index=True)
        if len(coords) == 0:
            return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        return self.project(coords), index.astype(np.int64)

    def nearest(self, points: FloatArray) -> _Knots:
        """Distance to Z at each point, with the nearest segment of Z's boundary and the
        nearest point on it.

        A box query (a plain bounding-box search, an order of magnitude cheaper per point
        than a nearest-neighbour search) finds the segments within a reach of each point:
        when the best of them is within that distance it is the nearest of all. The reaches
        grow (``_REACHES_M``); points farther from Z fall back to the nearest-neighbour
        search.
        """
        n = len(points)
        segment = np.zeros(n, dtype=np.int64)
        distance = np.full(n, np.inf)
        if n:
            far = np.arange(n)
            for reach in _REACHES_M:
                x, y = points[far].T
                boxes = shapely.box(x - reach, y - reach, x + reach, y + reach)
                which, chunk = self._chunks.tree.query(boxes)
                found, best, d = self._best_of(far[which], chunk, points)
                segment[found], distance[found] = best, d
                far = far[distance[far] > reach]
                if not len(far):
                    break
            if len(far):
                which, chunk = self._chunks.tree.query_nearest(
                    shapely.points(points[far]), all_matches=False
                )
                found, best, _ = self._best_of(far[which], chunk, points)
                segment[found] = best
        closest = _closest_on_segment(points, self._starts[segment], self._ends[segment])
        return _Knots(points, np.hypot(*(points - closest).T), segment, closest)

    def _best_of(
        self, which: IntArray, chunk: IntArray, points: FloatArray
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """For each point in ``which`` (ascending) the nearest segment of the paired chunks,
        and its distance: (points, segments, distances)."""
        if len(which) == 0:
            return which, which, np.zeros(0)
        # Each pair's chunk as a row of its segments: the nearest of the row, the first of
        # equals (argmin), then the nearest row of each point.
        segments = self._chunks.members[chunk]
        d2 = self._edges.squared_distance(points[which][:, None, :], segments)
        pair, column = np.arange(len(which)), np.argmin(d2, axis=1)
        candidate, d2 = segments[pair, column], d2[pair, column]
        if len(which) > 1 and bool(np.any(which[1:] < which[:-1])):
            order = np.argsort(which, kind="stable")
            which, candidate, d2 = which[order], candidate[order], d2[order]
        first = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
        least = np.minimum.reduceat(d2, first)
        # The first candidate of each point at its least distance.
        at_least = np.flatnonzero(d2 == np.repeat(least, np.diff(np.r_[first, len(d2)])))
        chosen = at_least[np.r_[True, which[at_least][1:] != which[at_least][:-1]]]
        return which[first], candidate[chosen], np.sqrt(least)

    def _to_segment(self, points: FloatArray, segment: IntArray) -> FloatArray:
        return np.sqrt(self._edges.squared_distance(points, segment))

    def max_over(self, groups: Sequence[Measured]) -> list[float]:
        """For each group of lines, an upper bound (within its tolerance + relative × the
        result) of the distance to Z over them. One search for all groups: its fixed costs
        per round outweigh the work on a few hundred intervals."""
        xy, line, knot_group = self._project_groups(groups)
        is_start = np.zeros(len(xy), dtype=bool)
        is_start[:-1] = line[:-1] == line[1:]
        best = np.zeros(len(groups))
        present = np.zeros(len(groups), dtype=bool)
        present[knot_group[is_start]] = True
        if is_start.any():
            # Each knot once: a line's inner knots end one interval and start the next.
            knots = self.nearest(xy)
            on_edge = is_start | np.roll(is_start, 1)
            np.maximum.at(best, knot_group[on_edge], knots.f[on_edge])
            a, b = knots.take(is_start), knots.take(np.roll(is_start, 1))
            self._search(a, b, knot_group[is_start], best, groups)
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

    def _search(
        self,
        a: _Knots,
        b: _Knots,
        interval_group: IntArray,
        best: FloatArray,
        groups: Sequence[Measured],
    ) -> None:
        """Branch and bound, raising ``best`` (per group) in place."""
        tolerance = np.array([g.tolerance for g in groups])
        relative = np.array([g.relative for g in groups])
        quarters = np.array([0.25, 0.5, 0.75])
        while len(a.f):
            limit = best * (1 + relative) + tolerance
            open_ = self._open(a, b, limit[interval_group])
            if not open_.any():
                break
            a, b, interval_group = a.take(open_), b.take(open_), interval_group[open_]
            # Split each open interval in four and evaluate the three inner points.
            inner = a.xy[:, None, :] + (b.xy - a.xy)[:, None, :] * quarters[None, :, None]
            middle = self.nearest(inner.reshape(-1, 2))
            np.maximum.at(best, np.repeat(interval_group, 3), middle.f)
            a, b = _Knots.split(a, middle, b)
            interval_group = np.repeat(interval_group, 4)

    def _bound(self, a: _Knots, b: _Knots) -> FloatArray:
        """An upper bound of the distance to Z over each interval [a, b]."""
        # Lipschitz: the distance to a set changes by at most the distance moved.
        length = np.hypot(*(b.xy - a.xy).T)
        bound = (a.f + b.f + length) / 2
        # The distance to one segment of Z is convex along [a, b]: at most its larger end.
        bound = np.minimum(bound, np.maximum(a.f, self._to_segment(b.xy, a.segment)))
        bound = np.minimum(bound, np.maximum(b.f, self._to_segment(a.xy, b.segment)))
        # Both nearest points are in Z, so f ≤ min(|p − qa|, |p − qb|); along a line those two
        # cross once (their squares differ linearly), where the minimum peaks if not at an end.
        qa, qb = a.closest, b.closest
        direction, across = b.xy - a.xy, qb - qa
        denominator = 2 * np.einsum("ij,ij->i", direction, across)
        numerator = (
            np.einsum("ij,ij->i", qb, qb)
            - np.einsum("ij,ij->i", qa, qa)
            - 2 * np.einsum("ij,ij->i", a.xy, across)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            t = numerator / denominator
        crossing = np.isfinite(t) & (t > 0) & (t < 1)
        peak = np.where(crossing, 0.0, np.maximum(a.f, b.f))
        p = a.xy[crossing] + direction[crossing] * t[crossing, None]
        peak[crossing] = np.maximum(
            np.maximum(a.f[crossing], b.f[crossing]), np.hypot(*(p - qa[crossing]).T)
        )
        return np.asarray(np.minimum(bound, peak))

    def _open(self, a: _Knots, b: _Knots, limit: FloatArray) -> BoolArray:
        """Intervals whose bound exceeds ``limit``; the chain bound, dearer, only where the
        others leave them open."""
        open_ = self._bound(a, b) > limit
        still = np.flatnonzero(open_)
        if len(still):
            chained = np.maximum(a.f[still], b.f[still]) + self._chain_width(
                a.take(still), b.take(still)
            )
            open_[still] = chained > limit[still]
        return open_

    def _chain_width(self, a: _Knots, b: _Knots) -> FloatArray:
        """H for the chain of Z's boundary from a's nearest segment to b's, when the chain runs
        monotonically along its chord within a band of width H; infinite otherwise.

        Every point of the chain's hull is then within H of the chain (across the band), and
        the chain is part of Z, so f ≤ d(·, hull(chain)) + H; the distance to a convex set is
        convex along [a, b], so f ≤ max(f(a), f(b)) + H there. Along the zone's arc, H is the
        sagitta of a few chords: metres, shrinking fourfold each time intervals halve.
        """
        first = np.minimum(a.segment, b.segment)
        last = np.maximum(a.segment, b.segment)
        steps = np.arange(_CHAIN_MAX + 1)
        index = np.minimum(first[:, None] + steps[None, :], last[:, None])
        p0, p1 = self._starts[first], self._ends[last]
        chord = p1 - p0
        length = np.hypot(*chord.T)
        vertices = self._starts[index]  # the chain's vertices, the last one repeated
        offset = vertices - p0[:, None, :]
        # Signed offsets from the chord (0 at both ends): a chain on one side of its chord
        # (an arc) lies within a band of width max − min, and so does its hull.
        across = chord[:, None, 0] * offset[..., 1] - chord[:, None, 1] * offset[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            width = (across.max(axis=1) - across.min(axis=1)) / length
        direction = self._ends[index] - self._starts[index]
        monotone = (np.einsum("mkj,mj->mk", direction, chord) > 0).all(axis=1)
        valid = (
            (last - first <= _CHAIN_MAX)
            & (self._ring[first] == self._ring[last])
            & monotone
            & (length > 0)
        )
        return np.where(valid, width, np.inf)


@dataclass(frozen=True)
class Measured:
    """Lines whose greatest distance to Z is wanted, and how closely."""

    lines: BaseGeometry
    tolerance: float  # metres
    relative: float = 0.0  # and this share of the result


@dataclass(frozen=True)
class _Knots:
    """Points along the measured lines, with what is known of Z from each."""

    xy: FloatArray
    f: FloatArray  # distance to Z
    segment: IntArray  # nearest segment of Z's boundary
    closest: FloatArray  # nearest point of Z

    def take(self, mask: npt.NDArray[Any]) -> _Knots:
        return _Knots(self.xy[mask], self.f[mask], self.segment[mask], self.closest[mask])

    @staticmethod
    def split(a: _Knots, middle: _Knots, b: _Knots) -> tuple[_Knots, _Knots]:
        """Intervals [a, b] with three inner knots each become four intervals."""

        def stack(field: str) -> npt.NDArray[Any]:
            inner = getattr(middle, field)
            inner = inner.reshape(len(a.f), 3, *inner.shape[1:])
            return np.concatenate(
                [getattr(a, field)[:, None], inner, getattr(b, field)[:, None]], axis=1
            )

        fields = ("xy", "f", "segment", "closest")
        stacked = {name: stack(name) for name in fields}
        starts = _Knots(*(_flat(stacked[n][:, :-1]) for n in fields))
        ends = _Knots(*(_flat(stacked[n][:, 1:]) for n in fields))
        return starts, ends


def _flat(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return array.reshape(-1, *array.shape[2:])


@dataclass(frozen=True)
class _Edges:
    """Z's boundary segments as flat arrays, for distances to many (point, segment) pairs:
    separate coordinate arrays and a squared distance need no temporaries of pairs."""

    x: FloatArray  # each segment's start
    y: FloatArray
    dx: FloatArray  # and its vector to the end
    dy: FloatArray
    inverse: FloatArray  # 1 / its squared length (0 for a repeated point)

    @classmethod
    def of(cls, starts: FloatArray, ends: FloatArray) -> _Edges:
        dx, dy = (ends - starts).T
        length2 = dx * dx + dy * dy
        inverse = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 > 0)
        return cls(starts[:, 0].copy(), starts[:, 1].copy(), dx.copy(), dy.copy(), inverse)

    def squared_distance(self, points: FloatArray, segment: IntArray) -> FloatArray:
        """The squared distance from each point to its paired segment (``points`` with one
        more axis than ``segment``, the coordinates; broadcast against it)."""
        px = points[..., 0] - self.x[segment]
        py = points[..., 1] - self.y[segment]
        dx, dy = self.dx[segment], self.dy[segment]
        t = np.clip((px * dx + py * dy) * self.inverse[segment], 0.0, 1.0)
        ex, ey = px - t * dx, py - t * dy
        return np.asarray(ex * ex + ey * ey)


@dataclass(frozen=True)
class _Chunks:
    """Z's boundary segments indexed in runs of consecutive ones along a ring: a tree of a
    few hundred short linestrings is far cheaper to build than one of every segment, and a
    run's box holds each of its segments' boxes, so a search finds what it would have."""

    tree: shapely.STRtree
    # Each run's segments as a row, ``_CHUNK_SEGMENTS`` wide: a shorter run's last segment
    # repeated (a repeat is never taken for the nearest: the first of equals is).
    members: IntArray

    @classmethod
    def of(cls, starts: FloatArray, ends: FloatArray, ring: IntArray) -> _Chunks:
        n = len(starts)
        index = np.arange(n)
        opens_ring = np.r_[True, ring[1:] != ring[:-1]] if n else np.zeros(0, dtype=bool)
        along = index - np.maximum.accumulate(np.where(opens_ring, index, 0))
        first = np.flatnonzero(along % _CHUNK_SEGMENTS == 0)
        count = np.diff(np.r_[first, n])
        run = np.repeat(np.arange(len(first)), count)
        # A run of k segments is a linestring of k + 1 points: their starts, then the last end.
        points = np.empty((n + len(first), 2))
        points[index + run] = starts
        points[first + count + np.arange(len(first))] = ends[first + count - 1]
        of_point = np.repeat(np.arange(len(first)), count + 1)
        steps = np.arange(_CHUNK_SEGMENTS)
        members = first[:, None] + np.minimum(steps[None, :], count[:, None] - 1)
        return cls(shapely.STRtree(shapely.linestrings(points, indices=of_point)), members)


def _closest_on_segment(p: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.einsum("ij,ij->i", p - a, ab) / np.where(length2 > 0, length2, 1.0)
    return np.asarray(a + ab * np.clip(t, 0.0, 1.0)[:, None])
