"""What is sent: polygons of at most N vertices each (what cell broadcast takes) covering the zone.

Pure geometry, no I/O; the ``Territory`` is passed in.

The exact zone is Z = zone ∩ national territory (the zone: a geodesic disk, or the union of a
few convex pieces). A zone of one piece is clipped without the general overlay
(``alert_engine.convex_clip``: a convex window needs one side test per coast vertex). The
sent polygon P must cover Z entirely (missing a child is the failure we never accept) while
staying off land outside Z (people who should not be alerted); over the sea it may run
freely. P is the intersection of two polygons that each cover Z:

1. **A convex cover C of Z's hull**, built from tangent lines (a circumscribed polygon) in a
   plane that is an *affine* image of lon/lat (x = Δlon·kx, y = Δlat·ky, ≈ metres near the
   centre). Affine, so a straight edge there is the straight lon/lat edge GeoJSON draws and
   covering in the plane is covering on the map. The hull's land-facing arcs (where the
   territory lies just beyond it: the zone's edge over land) get tangents every Δ, which
   bounds the overshoot there by r·(sec(Δ/2) − 1); sea-facing arcs get a tangent every 30°;
   a corridor's straight sides each get the tangent along them.
   Land inside the hull but outside Z is foreign (Z holds all the territory within the
   zone), and the second polygon removes it. For a zone of several pieces that holds only
   within each piece: C is then the union of such covers, one around Z's hull within each
   piece, on one grid of directions (``_cover``), so the territory in the notches between
   pieces stays out.
2. **An allowed area A** (``alert_engine.allowed_area``): the territory grown over the sea,
   following land borders within a reach; drawn once at several reaches per territory.

The budget is shared between C's vertices and A's vertices inside C: the layer and the
tangent step are chosen to minimise the larger of the two expected overshoots, and the
tangent step shrinks until the vertex count fits. Covering is verified in lon/lat, with a
fallback (a rotated rectangle) that always covers. The overshoot is then measured, not
estimated (``alert_engine.overshoot``), from a distance field of Z. A is drawn around
the whole territory, not around Z: where Z's edge grazes a land border, territory just
outside Z lets A keep foreign land beside it. When the measurement finds land too far,
that land is cut out where it was found (``alert_engine.far_land``) and P measured again.

What is sent is P as CAP can carry it: on CAP's 6-decimal grid (GeoJSON gets the same
coordinates, so both describe one region), without edges shorter than a metre
(``alert_engine.short_edges``), and as hole-free parts (``alert_engine.hole_free``: A has
holes around Ceuta, Melilla and the Spanish islets), each of at most ``max_vertices``
vertices, at most ``max_polygons`` of them. Coverage and overshoot are checked and measured
on the union of those parts, the region a consumer of either format alerts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.allowed_area import AllowedLayer
from alert_engine.compiled import compiled
from alert_engine.convex_clip import ClipRings, clip_to_convex
from alert_engine.diagonal_cuts import peel_to_fit
from alert_engine.far_land import far_land_near
from alert_engine.geodesy import geodesic_disk
from alert_engine.grid_cuts import GRID_DEG, sent_cost, split_to_fit
from alert_engine.grid_cuts import vertex_count as vertex_count
from alert_engine.hole_free import has_holes, hole_free_parts
from alert_engine.hull import CLOSE, INSIDE, hull_ring, locate_in_hull, with_normals
from alert_engine.local_plane import LocalPlane
from alert_engine.overshoot import DistanceField, land_farther_than, measure_overshoot
from alert_engine.overshoot import load_compiled as load_compiled_measurement
from alert_engine.short_edges import drop_short_edges
from alert_engine.territory import Territory
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

WEA_LIMIT_M = 161.0  # FCC Wireless Emergency Alerts: 0.1 mile of overshoot
_SAFETY_M = 2.0  # ε: outward margin so that rounding can never uncover part of Z
_SEA_STEP = math.radians(30.0)  # tangent spacing where only sea lies beyond the hull
# How far beyond the hull a wide corner may reach over territory unchecked (well under 161 m).
_CORNER_CLEAR_M = 60.0
_PROBED = 360  # directions probed for land beyond the hull, once per hull (``_FacingProbe``)
_MIN_TANGENTS = 6  # fewer leaves gaps of more than 60° between tangents: spikes
# A piece's edge is a straight side (``_straight_sides``) when it is this much longer than
# the piece's typical edge, and longer than this (metres).
_SIDE_FACTOR = 4.0
_SIDE_MIN_M = 2000.0
_SAME_RAD = 1e-4  # directions closer than this are one tangent
_FIT_ATTEMPTS = 6
DEFAULT_MAX_POLYGONS = 32  # what the 161 m rule needs along the Algerian border at 500 km
# One polygon is kept when its expected overshoot is within this; else all parts are tried.
_TARGET_M = 145.0
# Expected overshoots a many-part footprint does not try to beat, and its finest corners:
# well under the 161 m rule, with room for what the expectation leaves out.
_GOOD_ENOUGH_M = 100.0
_GOOD_CORNER_M = 40.0
_CUT_VERTICES = 6  # what cutting a polygon in two typically adds to each part
# Shortest edge kept: a metre, plus what rounding to the grid can take off an edge (~0.16 m).
_MIN_EDGE_M = 1.2
# How near Z land may stay where P is mended (``far_land``): the finest layer's reach.
_MENDED_M = 140.0
_MEND_MAX_POINTS = 300  # ≈ 10 km of line found too far: more is the budget, not a graze


@dataclass(frozen=True)
class Footprint:
    # What is sent: hole-free lon/lat polygons on the 6-decimal grid, each ≤ max_vertices,
    # at most max_polygons; parts cut around an enclave share the edges of the cut.
    parts: tuple[shapely.Polygon, ...]
    polygon: BaseGeometry  # their union, the region sent (valid; an enclave is a hole in it)
    exact: BaseGeometry  # Z = zone ∩ national territory, lon/lat
    zone: BaseGeometry  # the zone before clipping: the union of its pieces
    vertex_count: int  # the parts' vertices, closing repeats excluded
    overshoot_land_m: float  # greatest distance from P ∩ land ∖ Z to Z (upper bound)
    overshoot_sea_m: float  # greatest distance from P ∩ sea to Z (upper bound)
    meets_wea_rule: bool  # overshoot_land_m ≤ 161 m


def load_compiled() -> None:
    """Load the footprint's compiled steps (or compile them: seconds, the first time on a
    machine), so that a service's first alert does not wait for them."""
    load_compiled_measurement()
    octagon = shapely.Point(0.0, 0.0).buffer(1.0, quad_segs=2)
    hull = _Hull(shapely.get_coordinates(shapely.Point(0.0, 0.0).buffer(1.0, quad_segs=32)))
    hull.support(np.linspace(0.0, 2 * math.pi, 8, endpoint=False))
    clip_to_convex(ClipRings.of(shapely.box(0.5, -2.0, 3.0, 2.0)), octagon)
    # A ring with an edge of centimetres: the short-edge loop runs.
    drop_short_edges(shapely.Polygon([(0, 0), (1e-3, 0), (1e-3, 1e-3), (1e-3 - 1e-7, 1e-3)]), 1.0)
    peel_to_fit(octagon, 4)  # over its budget: diagonals are tested
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    locate_in_hull(square, np.array([0.5]), np.array([0.5]))  # allowed vertices in a hull


def footprint(
    center: Point,
    radius_km: float,
    territory: Territory,
    max_vertices: int,
    max_polygons: int = DEFAULT_MAX_POLYGONS,
) -> Footprint:
    """The polygons to send for the geodesic disk of ``radius_km`` around ``center``."""
    return footprint_of(
        [geodesic_disk(center, radius_km * 1000.0).polygon],
        territory,
        max_vertices,
        max_polygons,
    )


def footprint_of(
    pieces: Sequence[shapely.Polygon],
    territory: Territory,
    max_vertices: int,
    max_polygons: int = DEFAULT_MAX_POLYGONS,
) -> Footprint:
    """The polygon to send for a zone made of ``pieces``.

    Each piece is a lon/lat polygon, convex in lon/lat, that already covers its geodesic
    figure (a disk from ``geodesy.geodesic_disk``, or the hull of two such disks); the zone
    is their union. The exact zone Z is that union clipped to the territory.
    """
    if max_vertices < 4:
        raise ValueError("a covering polygon needs a budget of at least 4 vertices")
    if max_polygons < 1:
        raise ValueError("a footprint needs at least one polygon")
    if not pieces:
        raise ValueError("a zone needs at least one piece")
    zone = pieces[0] if len(pieces) == 1 else shapely.union_all(list(pieces))
    exact = _exact_zone(zone, territory, convex=len(pieces) == 1)  # a piece is convex
    if exact.is_empty:
        return Footprint((), shapely.Polygon(), exact, zone, 0, 0.0, 0.0, True)
    minx, miny, maxx, maxy = zone.bounds
    center = Point(lon=(minx + maxx) / 2, lat=(miny + maxy) / 2)
    plane = LocalPlane.at(center)
    budget = _Budget(max_vertices, max_polygons)
    shapely.prepare(exact)
    parts, polygon = _covering_parts(exact, territory, plane, budget, pieces, verify=False)
    if not _covers(polygon, exact):  # rare: then each candidate is checked before it is chosen
        parts, polygon = _covering_parts(exact, territory, plane, budget, pieces, verify=True)
    distance = DistanceField(exact, center)
    land_m, sea_m = measure_overshoot(polygon, distance, territory, pieces)
    if land_m > WEA_LIMIT_M:
        mended = _mend_far_land(polygon, exact, distance, territory, pieces, budget)
        if mended is not None and mended[2] < land_m:
            parts, polygon, land_m, sea_m = mended
    return Footprint(
        parts=parts,
        polygon=polygon,
        exact=exact,
        zone=zone,
        vertex_count=sum(vertex_count(p) for p in parts),
        overshoot_land_m=land_m,
        overshoot_sea_m=sea_m,
        meets_wea_rule=land_m <= WEA_LIMIT_M,
    )


def _mend_far_land(
    polygon: BaseGeometry,
    exact: BaseGeometry,
    distance: DistanceField,
    territory: Territory,
    pieces: Sequence[shapely.Polygon],
    budget: _Budget,
) -> tuple[tuple[shapely.Polygon, ...], BaseGeometry, float, float] | None:
    """P without the land it reaches too far from Z where that was found (``far_land``), as
    sent and measured again; None if nothing was found, or the result does not fit the budget
    or cover Z. Rare (a zone's edge grazing a land border), so it may cost an overlay."""
    far = land_farther_than(polygon, distance, territory, pieces, WEA_LIMIT_M - _SAFETY_M)
    if not 0 < len(far) <= _MEND_MAX_POINTS:
        return None  # nothing found, or a whole border too winding for the budget: no graze
    cut = far_land_near(far, exact, territory.land, _MENDED_M)
    tier = _Budget(budget.vertices, budget.polygons, split=budget.polygons > 1)
    parts = sendable(polygonal(shapely.difference(polygon, cut)), tier.polygons, _cut_at(tier))
    excess = tier.excess(parts) if parts else None
    region = _covering_region(parts, exact) if excess is not None and excess <= 0 else None
    if region is None:
        return None
    land_m, sea_m = measure_overshoot(region, distance, territory, pieces)
    return parts, region, land_m, sea_m


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Only the areal parts (overlays can return stray points or lines on shared edges)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = shapely.get_parts(geometry)
    polygons = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if polygons else shapely.Polygon()


def _exact_zone(zone: BaseGeometry, territory: Territory, *, convex: bool) -> BaseGeometry:
    if shapely.contains(territory.national, zone):
        return zone  # inland: no overlay needed (the territory is prepared, this is fast)
    if convex and isinstance(zone, shapely.Polygon):
        clipped = clip_to_convex(territory.national_rings, zone)
        if clipped is not None:
            return clipped
    national = shapely.clip_by_rect(territory.national, *zone.bounds)
    return polygonal(shapely.intersection(zone, national))


# --- the convex cover -----------------------------------------------------------------------


class _Hull:
    """Z's convex hull in the plane, with its support function h(θ) = max over the hull of
    (cos θ, sin θ)·v: the tangent line of outward direction θ is {x : u(θ)·x = h(θ)}."""

    def __init__(self, points: FloatArray) -> None:
        """The hull of ``points``: a zone's vertices in the plane."""
        # The normals' angles rise along the ring: ``support`` searches them. The size is
        # ≈ the zone's radius, from the plane's origin (the centre of the zone's bounds, so
        # the disk's centre): half the hull's extent would be less than the radius of its
        # arcs when the territory keeps only part of the disk, and corners would be
        # expected to overshoot less than they do.
        self.vertices, self._normals, self.size = with_normals(hull_ring(points))

    def support(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """h(θ) and the hull point where the tangent of direction θ touches."""
        return _support(self.vertices, self._normals, np.ascontiguousarray(theta, np.float64))


@compiled
def _support(
    vertices: FloatArray, normals: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``_Hull.support``: the vertex between the two edge normals around each direction, found
    by a binary search (the normals rise along a convex ring), or one of its neighbours:
    rounding at a normal's exact angle must not pick a wrong vertex."""
    n, m = vertices.shape[0], theta.shape[0]
    h, touch = np.empty(m), np.empty((m, 2))
    start = normals[0]
    for i in range(m):
        wrapped = start + np.mod(theta[i] - start, 2 * math.pi)
        index = np.searchsorted(normals, wrapped) % n
        ux, uy = math.cos(theta[i]), math.sin(theta[i])
        best = -np.inf
        for k in (index - 1, index, index + 1):
            vx, vy = vertices[k % n, 0], vertices[k % n, 1]
            dot = vx * ux + vy * uy
            if dot > best:
                best, touch[i, 0], touch[i, 1] = dot, vx, vy
        h[i] = best
    return h, touch


def _straight_sides(pieces: Sequence[shapely.Polygon], plane: LocalPlane) -> FloatArray:
    """The outward directions of the pieces' straight sides (a corridor's two). Tangents
    evenly spread, one on either side of such a side, meet beyond its far end, half its
    length times their angle away: kilometres of land for a side of tens. A side's own
    direction is a tangent along it. A side is an edge far longer than the piece's typical
    one: a disk's polygonal arc has none. (Z's hull has long edges too, along a straight
    border, but there the allowed area cuts the cover and bounds the overshoot.)"""
    directions = [np.empty(0)]
    for piece in pieces:
        ring = plane.xy(shapely.get_coordinates(piece))  # a piece has no holes
        edges = np.diff(ring, axis=0)
        if not _may_have_side(np.hypot(*edges.T)):
            continue
        if np.sum(ring[:-1, 0] * edges[:, 1] - ring[:-1, 1] * edges[:, 0]) < 0:
            edges = -edges[::-1]  # clockwise: the same edges, walked counter-clockwise
        lengths = np.hypot(*edges.T)
        long = lengths > max(_SIDE_MIN_M, _SIDE_FACTOR * float(np.median(lengths)))
        # The outward normal of a counter-clockwise edge (ex, ey) is (ey, -ex).
        directions.append(np.arctan2(-edges[long, 0], edges[long, 1]))
    sides: FloatArray = np.unique(np.mod(np.concatenate(directions), 2 * math.pi))
    return sides


def _may_have_side(lengths: FloatArray) -> bool:
    """Whether an edge of these ``lengths`` can be a straight side (``_straight_sides``):
    not when even the longest is within the bound the shortest sets, as the median sets one
    no lower. A disk's edges are all alike: it is told without sorting them for the median."""
    return bool(lengths.max() > max(_SIDE_MIN_M, _SIDE_FACTOR * lengths.min()))


def _tangent_polygon(hull: _Hull, theta: FloatArray) -> shapely.Polygon:
    """The polygon bounded by the tangents of directions ``theta`` (sorted, gaps < π)."""
    h, _ = hull.support(theta)
    h = h + _SAFETY_M
    a, b = theta, np.roll(theta, -1)
    ha, hb = h, np.roll(h, -1)
    det = np.sin(b - a)
    x = (ha * np.sin(b) - hb * np.sin(a)) / det
    y = (hb * np.cos(a) - ha * np.cos(b)) / det
    return shapely.Polygon(np.column_stack([x, y]))


def _piece_hulls(
    exact: BaseGeometry, pieces: Sequence[shapely.Polygon], plane: LocalPlane
) -> list[_Hull]:
    """The hull of Z within each piece, for a zone of several. Z's hull would span the
    notches between the pieces, and the territory there is outside Z: covered, it would be
    land overshoot of kilometres, which the allowed area cannot remove (it is territory)."""
    hulls = []
    for piece in pieces:
        within = polygonal(shapely.intersection(exact, piece))
        if not within.is_empty:
            hulls.append(_Hull(plane.xy(shapely.get_coordinates(within))))
    return hulls


@dataclass(frozen=True)
class _Covered:
    """A hull the cover's tangents surround, with its probe for land beyond it."""

    hull: _Hull
    probe: _FacingProbe


def _tangent_directions(covered: Sequence[_Covered], step: float) -> tuple[FloatArray, float]:
    """``_directions`` for each hull covered, together: the same grid of directions, each
    hull's land-facing ones fine (a piece's hull faces land in the notches, where Z's own
    hull does not reach), and the share of them that face land."""
    if len(covered) == 1:
        return _directions(step, covered[0].probe)
    chosen = [_directions(step, c.probe) for c in covered]
    theta = np.unique(np.concatenate([directions for directions, _ in chosen]))
    counts = [len(directions) for directions, _ in chosen]
    share = sum(s * n for (_, s), n in zip(chosen, counts, strict=True)) / sum(counts)
    return theta, share


def _cover(hulls: Sequence[_Hull], theta: FloatArray) -> BaseGeometry:
    """The polygon C bounded by the tangents of directions ``theta``: around Z's hull, or for
    a zone of several pieces the union of those around Z's hull within each. Z's support in a
    direction is the largest of the pieces', reached at the same vertex of Z, so where one
    piece's hull touches Z's, its tangent is Z's own: the union adds vertices only in the
    notches between pieces."""
    if len(hulls) == 1:
        return _tangent_polygon(hulls[0], theta)
    return shapely.union_all([_tangent_polygon(h, theta) for h in hulls])


def _land_facing(
    hull: _Hull, theta: FloatArray, plane: LocalPlane, territory: Territory
) -> BoolArray:
    """Whether territory lies just beyond the hull in each direction (where C overshoots
    onto land). Probed at three distances: the scale of the fine overshoot, how far a corner
    between two sea-spaced tangents reaches, and a third of that."""
    _, touch = hull.support(theta)
    unit = np.column_stack([np.cos(theta), np.sin(theta)])
    reach = hull.size * (1 / math.cos(_SEA_STEP / 2) - 1) * 1.2
    facing: BoolArray = np.zeros(len(theta), dtype=np.bool_)
    for distance in (max(50.0, hull.size * 2e-3), reach / 3, reach):
        # Nearest first: a direction found facing land is not probed farther (most face
        # land at the first distance, and each probe is a point-in-territory test).
        pending = np.flatnonzero(~facing)
        if not len(pending):
            break
        lon, lat = plane.lonlat(touch[pending] + unit[pending] * distance).T
        facing[pending] = shapely.contains_xy(territory.national, lon, lat)
    return facing


def _directions(step: float, facing_of: _FacingProbe) -> tuple[FloatArray, float]:
    """Tangent directions every ``step`` where land lies beyond, every 30° elsewhere; and
    the share of them that face land."""
    count = max(_MIN_TANGENTS, math.ceil(2 * math.pi / step))
    theta = np.linspace(0.0, 2 * math.pi, count, endpoint=False)
    facing = facing_of(theta)
    # A corner next to land reaches over it from both sides: keep both neighbours too.
    near_land = facing | np.roll(facing, 1) | np.roll(facing, -1)
    stride = max(1, round(_SEA_STEP / (2 * math.pi / count)))
    keep = near_land | (np.arange(count) % stride == 0)
    # The probes sample rays kilometres apart: a wide corner can still reach over a tongue
    # of territory between them. Such corners are tested whole and given the fine step.
    kept = np.flatnonzero(keep)
    wide = np.flatnonzero(np.diff(np.append(kept, kept[0] + count)) > 1)
    if len(wide):
        on_land = facing_of.corners_on_territory(
            theta[kept[wide]], theta[kept[(wide + 1) % len(kept)]]
        )
        for start in kept[wide[on_land]]:
            keep[(start + np.arange(stride + 1)) % count] = True
    chosen: FloatArray = theta[keep]
    share = float(np.mean(facing[keep]))
    sides = facing_of.sides
    if len(sides):
        # Each side's own direction, in place of any direction nearly the same (two
        # tangents a hair apart would meet far away).
        apart = np.abs(np.angle(np.exp(1j * (chosen[:, None] - sides[None, :])))) > _SAME_RAD
        chosen = np.union1d(chosen[apart.all(axis=1)], sides)
    return chosen, share


class _FacingProbe:
    """Whether land lies beyond the hull in any direction, probed once per hull on a grid of
    ``_PROBED`` directions (``_land_facing``) and read off it for every tangent step tried:
    a direction faces land when either grid direction around it does."""

    def __init__(
        self, hull: _Hull, plane: LocalPlane, territory: Territory, sides: FloatArray
    ) -> None:
        self._hull, self._plane, self._territory = hull, plane, territory
        self.sides = sides  # the zone's straight sides' directions (``_straight_sides``)
        self._grid: BoolArray | None = None

    @property
    def grid(self) -> BoolArray:
        """Facing land in each of the ``_PROBED`` directions 2πk/``_PROBED``."""
        if self._grid is None:
            theta = np.linspace(0.0, 2 * math.pi, _PROBED, endpoint=False)
            self._grid = _land_facing(self._hull, theta, self._plane, self._territory)
        return self._grid

    def __call__(self, theta: FloatArray) -> BoolArray:
        position = np.mod(theta, 2 * math.pi) * (_PROBED / (2 * math.pi))
        below = np.floor(position).astype(np.int64) % _PROBED
        above = np.ceil(position).astype(np.int64) % _PROBED
        grid = self.grid
        facing: BoolArray = grid[below] | grid[above]
        return facing

    def corners_on_territory(self, first: FloatArray, second: FloatArray) -> BoolArray:
        """Whether the corner between the tangents of directions ``first`` and ``second``
        (each gap < π) holds territory more than ``_CORNER_CLEAR_M`` beyond the hull: land
        outside Z that the corner would alert."""
        h1, touch1 = self._hull.support(first)
        h2, touch2 = self._hull.support(second)
        det = np.sin(second - first)
        corner = np.column_stack(
            [
                (h1 * np.sin(second) - h2 * np.sin(first)) / det,
                (h2 * np.cos(first) - h1 * np.cos(second)) / det,
            ]
        )
        unit1 = np.column_stack([np.cos(first), np.sin(first)])
        unit2 = np.column_stack([np.cos(second), np.sin(second)])
        ring = np.stack(
            [touch1 + unit1 * _CORNER_CLEAR_M, corner, touch2 + unit2 * _CORNER_CLEAR_M], axis=1
        )
        lonlat = self._plane.lonlat(ring.reshape(-1, 2)).reshape(ring.shape)
        triangles = shapely.polygons(lonlat)
        on_land: BoolArray = shapely.intersects(self._territory.national, triangles)
        return on_land


# --- the covering polygon -------------------------------------------------------------------


@dataclass(frozen=True)
class _Budget:
    vertices: int  # per part
    polygons: int
    # Whether a part over ``vertices`` may be cut into several (the many-part budget), or
    # parts come only from cutting out enclaves (the one-polygon budget).
    split: bool = False

    @property
    def capacity(self) -> int:
        """Vertices the covering polygon may have before it is cut into parts."""
        if not self.split:
            return self.vertices
        return self.polygons * (self.vertices - _CUT_VERTICES)

    def excess(self, parts: Sequence[shapely.Polygon]) -> int | None:
        """Vertices over the budget (≤ 0: fits); None if too many parts for a one-polygon
        budget (holes: a coarser step cannot help)."""
        counts = [vertex_count(p) for p in parts]
        if len(parts) > self.polygons:
            if not self.split:
                return None
            # Each part too many is about a part's worth of vertices too many.
            return max(sum(counts) - self.capacity, (len(parts) - self.polygons) * self.vertices)
        return max(counts) - self.vertices


def _covering_parts(
    exact: BaseGeometry,
    territory: Territory,
    plane: LocalPlane,
    budget: _Budget,
    pieces: Sequence[shapely.Polygon],
    *,
    verify: bool,
) -> tuple[tuple[shapely.Polygon, ...], BaseGeometry]:
    """One polygon (holes cut out) when it can meet the rule; else the budget of all parts,
    spent where land lies beyond the zone's edge; else the rectangle that always covers.
    With the region the parts describe together. Without ``verify``, a candidate is taken
    without checking that it covers Z (the caller checks the one taken)."""
    hull = _Hull(plane.xy(shapely.get_coordinates(exact)))
    sides = _straight_sides(pieces, plane)
    probe = _FacingProbe(hull, plane, territory, sides)
    covered = (
        [
            _Covered(h, _FacingProbe(h, plane, territory, sides))
            for h in _piece_hulls(exact, pieces, plane)
        ]
        if len(pieces) > 1
        else [_Covered(hull, probe)]
    )
    hull_lonlat = plane.to_lonlat(shapely.Polygon(hull.vertices))
    # Each layer's vertices inside the hull: what it costs any tier's budget (counted once).
    inside = _vertices_inside(hull_lonlat, territory)
    land_share = float(np.mean(probe.grid))
    one = _Budget(budget.vertices, budget.polygons)
    many = _Budget(budget.vertices, budget.polygons, split=True)

    def plans_for(tier: _Budget) -> list[tuple[float, AllowedLayer, float]]:
        return _plans(hull, land_share, list(zip(territory.allowed, inside, strict=True)), tier)

    plans = {one: plans_for(one)}
    tiers = [one]
    if budget.polygons > 1:
        # A plan's hope is a floor of what it achieves (fitting only widens the step): when
        # one polygon cannot hope to meet the target, the parts are tried first, and one
        # polygon only if they miss it too.
        hopeless = not plans[one] or plans[one][0][0] > _TARGET_M
        tiers = [many, one] if hopeless else [one, many]
    best: tuple[float, tuple[shapely.Polygon, ...], BaseGeometry] | None = None
    for tier in tiers:
        if tier not in plans:
            plans[tier] = plans_for(tier)
        found = _best_fit(hull, covered, plane, exact, plans[tier], tier, verify=verify)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
        if best is not None and best[0] <= _TARGET_M:
            return best[1], best[2]
    return (best[1], best[2]) if best is not None else _fallback(hull, plane, exact)


def _best_fit(
    hull: _Hull,
    covered: Sequence[_Covered],
    plane: LocalPlane,
    exact: BaseGeometry,
    plans: Sequence[tuple[float, AllowedLayer, float]],
    budget: _Budget,
    *,
    verify: bool,
) -> tuple[float, tuple[shapely.Polygon, ...], BaseGeometry] | None:
    """The sendable parts with the least expected overshoot within ``budget``: that
    overshoot, the parts, and the region they describe."""
    best: tuple[float, _Fitted, float] | None = None
    for hoped, layer, step in plans:
        if best is not None and hoped >= best[0]:
            break  # plans are sorted by what they hope for: none left can do better
        fitted = _fit(covered, plane, layer, step, exact, budget)
        if fitted is None:
            continue
        expected = max(_corner_overshoot(hull, fitted.step), layer.reach_m)
        score = max(expected, _GOOD_ENOUGH_M) if budget.split else expected
        if best is None or score < best[0]:
            best = (score, fitted, expected)
    if best is None:
        return None
    parts = best[1].parts or sendable(best[1].polygon, budget.polygons, _cut_at(budget))
    # Rounding can (rarely) split a thin part: the budget is checked on what is sent.
    excess = budget.excess(parts) if parts else None
    fits = excess is not None and excess <= 0
    region = _covering_region(parts, exact, verify=verify) if fits else None
    return (best[2], parts, region) if region is not None else None


def _cut_at(budget: _Budget) -> int | None:
    return budget.vertices if budget.split else None


@dataclass(frozen=True)
class _Fitted:
    polygon: BaseGeometry  # C ∩ A
    parts: tuple[shapely.Polygon, ...]  # as sent, if already made to count them; else ()
    step: float  # the tangent step it was built with


def _fit(
    covered: Sequence[_Covered],
    plane: LocalPlane,
    layer: AllowedLayer,
    step: float,
    exact: BaseGeometry,
    budget: _Budget,
) -> _Fitted | None:
    """C ∩ A with the finest tangent step from ``step`` on that fits the budget once sent
    (``sendable``), and that step.

    The count is not known before the overlay (A's vertices inside C, the crossings, the cuts
    around enclaves), so the step grows by the excess spread over the land-facing tangents
    until it fits.
    """
    for _ in range(_FIT_ATTEMPTS):
        theta, facing_share = _tangent_directions(covered, step)
        cover = plane.to_lonlat(_cover([c.hull for c in covered], theta))
        polygon = _clip_to_allowed(cover, layer, exact)
        excess, parts = _excess(polygon, budget)
        if excess is None:
            return None
        if excess <= 0:
            return _Fitted(polygon, parts, step)
        if len(theta) <= _MIN_TANGENTS:
            return None
        share = max(facing_share, 0.05)
        step *= 1 + (excess + 1) / max(len(theta) * share, 1.0)
    return None


def _excess(
    polygon: BaseGeometry, budget: _Budget
) -> tuple[int | None, tuple[shapely.Polygon, ...]]:
    """``budget.excess`` of ``polygon`` as sent, and the sent parts if they had to be made.
    Without holes, its own parts stand in for the sent ones: tidying and rounding only
    remove vertices (and cost a pass)."""
    own = [p for p in shapely.get_parts(polygon) if isinstance(p, shapely.Polygon)]
    if not own:
        return None, ()
    fits = all(vertex_count(p) <= budget.vertices for p in own)
    if not any(p.interiors for p in own) and (fits or not budget.split):
        return budget.excess(own), ()
    parts = sendable(polygon, budget.polygons, _cut_at(budget))
    return (budget.excess(parts) if parts else None), parts


def sendable(
    polygon: BaseGeometry, max_polygons: int, max_vertices: int | None = None
) -> tuple[shapely.Polygon, ...]:
    """``polygon`` as it can be sent: short edges dropped, on the grid, parts of more than
    ``max_vertices`` cut until each fits (if it is given: ``_cut_to_fit``), then what holes
    are left cut out into hole-free parts (holes smallest first filled in when cutting them
    all would take more than ``max_polygons`` parts; the overshoot measured afterwards counts
    what they hold).

    Grid lines, where they are used, come before chords: a chord around a hole that ends on
    one only adds a vertex on that straight line, which rounding keeps on it, so the parts
    still tile."""
    tidy = on_grid(drop_short_edges(polygon, _MIN_EDGE_M))
    polygons = [p for p in shapely.get_parts(tidy) if isinstance(p, shapely.Polygon)]
    if max_vertices is not None and any(sent_cost(p) > max_vertices for p in polygons):
        polygons = [q for p in polygons for q in _cut_to_fit(p, max_vertices)]
        # The cuts' new vertices lie on grid lines, but along them off the grid.
        polygons = [q for g in on_grid(np.asarray(polygons, dtype=object)) for q in _own(g)]
    holes = sum(len(p.interiors) for p in polygons)
    if holes == 0:
        return tuple(polygons)
    if len(polygons) + holes > max_polygons and max_vertices is None:
        # One polygon's budget: filled holes cost overshoot, not parts. (With parts cut to
        # fit, too many parts are the caller's excess: a coarser polygon needs fewer.)
        polygons = _fill_smallest_holes(polygons, max(max_polygons - len(polygons), 0))
    parts = hole_free_parts(shapely.MultiPolygon(polygons), _MIN_EDGE_M)
    if has_holes(parts):  # no chord kept new vertices apart from old ones: fill it in
        parts = [shapely.Polygon(p.exterior) for p in parts]
    # The cuts' new vertices are off the grid: round them (both sides of a cut alike).
    gridded = on_grid(np.asarray(parts, dtype=object))
    return tuple(q for g in gridded for q in _own(g))


def _cut_to_fit(polygon: shapely.Polygon, max_vertices: int) -> list[shapely.Polygon]:
    """``polygon`` in parts that fit: as it is, else cut along grid lines while a piece over
    the budget has holes (a line through a hole saves the part that cutting it out would
    take), then along the pieces' own diagonals (no new vertices), else grid lines again."""
    if sent_cost(polygon) <= max_vertices:
        return [polygon]
    pieces = split_to_fit(polygon, max_vertices, until_hole_free=True)
    peeled = []
    for piece in pieces:
        fitted = None if piece.interiors else peel_to_fit(piece, max_vertices)
        peeled.extend(fitted or split_to_fit(piece, max_vertices))
    return peeled


def _own(geometry: BaseGeometry) -> list[shapely.Polygon]:
    return [q for q in shapely.get_parts(geometry) if isinstance(q, shapely.Polygon)]


def on_grid(geometry: Any) -> Any:
    """``geometry`` with coordinates on CAP's grid, repeated points merged, kept valid.

    Rounding moves a point by at most 0.07 m, which leaves every ring valid unless two edges
    ran closer than that; only then does the (slower) snap-rounding overlay repair it. The
    result keeps floating precision: a geometry that carries a fixed grid makes every later
    overlay snap its new points to that grid, off the straight edges they lie on."""
    digits = round(-math.log10(GRID_DEG))
    rounded = shapely.remove_repeated_points(
        shapely.transform(geometry, lambda xy: np.round(xy, digits))
    )
    if bool(np.all(shapely.is_valid(rounded))):
        return rounded
    return shapely.set_precision(shapely.set_precision(geometry, GRID_DEG), 0.0)


def _fill_smallest_holes(polygons: list[shapely.Polygon], keep: int) -> list[shapely.Polygon]:
    rings = sorted(
        ((shapely.Polygon(r).area, i, r) for i, p in enumerate(polygons) for r in p.interiors),
        key=lambda item: -item[0],
    )
    kept: dict[int, list[BaseGeometry]] = {}
    for _, i, ring in rings[:keep]:
        kept.setdefault(i, []).append(ring)
    return [shapely.Polygon(p.exterior, kept.get(i, [])) for i, p in enumerate(polygons)]


def _region(parts: Sequence[shapely.Polygon]) -> BaseGeometry:
    """The region the parts describe together (parts cut around an enclave share edges)."""
    if len(parts) == 1:
        return parts[0]
    return polygonal(shapely.union_all(list(parts)))


def _corner_overshoot(hull: _Hull, step: float) -> float:
    """How far the corner between two tangents ``step`` apart lies beyond a circle of the
    hull's size: r·(sec(Δ/2) − 1)."""
    return hull.size * (1 / math.cos(min(step, 3.0) / 2) - 1)


def _vertices_inside(hull_lonlat: BaseGeometry, territory: Territory) -> list[int]:
    """How many of each allowed layer's vertices lie inside the hull."""
    vertices, layer = territory.allowed_vertices  # sorted by longitude
    minx, miny, maxx, maxy = hull_lonlat.bounds
    lon = vertices[:, 0]
    first = int(np.searchsorted(lon, minx, side="left"))
    last = int(np.searchsorted(lon, maxx, side="right"))
    lat = vertices[first:last, 1]
    near = first + np.flatnonzero((lat >= miny) & (lat <= maxy))
    x, y = vertices[near, 0], vertices[near, 1]
    # Decided in the hull's fan (``locate_in_hull``); GEOS, unprepared, only for the few too
    # near the hull's edges to tell: the answers are GEOS's either way.
    verdict = locate_in_hull(shapely.get_coordinates(hull_lonlat)[:-1], x, y)
    inside = verdict == INSIDE
    close = np.flatnonzero(verdict == CLOSE)
    inside[close] = shapely.contains_xy(hull_lonlat, x[close], y[close])
    counts = np.bincount(layer[near[inside]], minlength=len(territory.allowed))
    return [int(c) for c in counts]


def _plans(
    hull: _Hull,
    land_share: float,
    layers: Sequence[tuple[AllowedLayer, int]],
    budget: _Budget,
) -> list[tuple[float, AllowedLayer, float]]:
    """(score, layer, tangent step) to try, most hopeful first; ``layers`` come with their
    vertices inside the hull.

    A layer's vertices inside the hull take that share of the budget; the rest sets the
    tangent step over the land-facing arcs. The hope is the larger of the layer's reach onto
    foreign land and the corners' overshoot r·(sec(Δ/2) − 1); the fit may need a wider step.
    One polygon is spent wholly on the least hope. Several are spent only as far as the rule
    needs: every hope under ``_GOOD_ENOUGH_M`` scores alike, the coarsest layer first, and
    the step is no finer than corners of ``_GOOD_CORNER_M`` (more parts would reach no
    fewer people).
    """
    max_vertices = budget.capacity
    floor = _GOOD_ENOUGH_M if budget.split else 0.0
    finest = 2 * math.acos(1 / (1 + _GOOD_CORNER_M / hull.size)) if budget.split else 0.0
    sea_tangents = (1 - land_share) * 2 * math.pi / _SEA_STEP + 2
    plans = []
    for layer, inside in layers:
        tangents = max_vertices - inside - sea_tangents
        if tangents < _MIN_TANGENTS * max(land_share, 0.2):
            continue
        step = max(2 * math.pi * max(land_share, 1e-3) / tangents, finest)
        hope = max(_corner_overshoot(hull, step), layer.reach_m)
        plans.append((max(hope, floor), layer, step))
    plans.sort(key=lambda p: (p[0], -p[1].reach_m if budget.split else p[1].reach_m))
    return plans


def _clip_to_allowed(cover: BaseGeometry, layer: AllowedLayer, exact: BaseGeometry) -> BaseGeometry:
    local = shapely.clip_by_rect(layer.polygon, *cover.bounds)
    polygon = polygonal(shapely.intersection(cover, local))
    parts = shapely.get_parts(polygon)
    if len(parts) > 1:
        # Pockets of sea cut off from Z by foreign land cost vertices and reach no one.
        touching = parts[shapely.intersects(parts, exact)]
        polygon = touching[0] if len(touching) == 1 else shapely.multipolygons(touching)
    return polygon


def _covering_region(
    parts: Sequence[shapely.Polygon], exact: BaseGeometry, *, verify: bool = True
) -> BaseGeometry | None:
    """The region the parts describe together, if they are valid and (``verify``) it covers
    Z; else None. (Kept by the caller: it is what is measured afterwards.)"""
    if not parts or not all(p.is_valid for p in parts):
        return None
    region = _region(parts)
    return region if not verify or _covers(region, exact) else None


def _covers(region: BaseGeometry, exact: BaseGeometry) -> bool:
    shapely.prepare(region)
    return bool(shapely.covers(region, exact))


def _fallback(
    hull: _Hull, plane: LocalPlane, exact: BaseGeometry
) -> tuple[tuple[shapely.Polygon, ...], BaseGeometry]:
    """A rotated rectangle around Z: 4 vertices, always covering, loose on land."""
    rectangle = shapely.oriented_envelope(shapely.Polygon(hull.vertices))
    grown = shapely.buffer(rectangle, 10 * _SAFETY_M, join_style="mitre", mitre_limit=2.0)
    parts = sendable(polygonal(plane.to_lonlat(grown)), 1)
    region = _covering_region(parts, exact)
    if region is None:
        raise RuntimeError("could not build a covering polygon")
    return parts, region
