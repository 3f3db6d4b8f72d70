"""What is sent (brief §4 "Polygon budget"): a polygon of at most N vertices covering the zone.

Pure geometry, no I/O; the ``Territory`` is passed in.

The exact zone is Z = disk ∩ national territory. The sent polygon P must cover Z entirely
(missing a child is the failure we never accept) while staying off land outside Z (people
who should not be alerted); over the sea it may run freely. The algorithm:

1. **Disk**: a fine polygon circumscribing the geodesic disk (corners placed with
   ``pyproj.Geod``; chord error ≤ ~1 m), so Z covers the true disk's share of the territory.
2. **Target** T = Z ∪ (sea inside the convex hull of Z, kept ``gap`` metres away from any land
   outside Z). Filling the sea erases the coastline, so the vertices are spent on what
   remains: land borders (Algeria, Mauritania, Ceuta, Melilla) and the disk's arc over land.
   The gap keeps the fill (and the tolerance added to it below) off foreign coasts.
3. **Covering simplification** in a plane that is an *affine* image of lon/lat (x = Δlon·kx,
   y = Δlat·ky, ≈ metres near the centre): S = Douglas–Peucker(T, t) with topology kept, then
   P = S grown by t + ε with mitred joins. Every point of T lies within t of S, so P ⊇ T ⊕ ε
   ⊇ Z; because the plane is affine to lon/lat, straight edges there are the straight lon/lat
   edges GeoJSON draws, so covering in the plane is covering on the map. t is the smallest
   tolerance (bisection) whose P fits in the vertex budget. ε (a few metres) absorbs
   floating-point error; covering is then verified in lon/lat, with fallbacks.
4. **Overshoot in metres**: the boundaries of P ∩ land and P ∖ land are projected to the
   ellipsoidal azimuthal equidistant plane centred on the disk (via ``Geod.inv``: distance and
   azimuth from the centre) and their distance to Z is maximised by Lipschitz
   branch-and-bound (distance to a set changes by at most the distance moved, so an interval
   whose endpoints are f(a), f(b) apart by ℓ cannot exceed (f(a)+f(b)+ℓ)/2). The reported
   figure is an upper bound within ``_LAND_TOL_M`` (land) or ``_SEA_TOL_M`` (sea) of the true
   maximum over those boundaries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from alert_engine.territory import Territory
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]

WEA_LIMIT_M = 161.0  # FCC Wireless Emergency Alerts: 0.1 mile of overshoot
_GEOD = Geod(ellps="WGS84")
_DISK_CHORD_M = 1.0  # sagitta of the disk polygon's chords: the disk is exact to ~1 m
_SAFETY_M = 2.0  # ε: outward margin so that rounding can never uncover part of Z
_MITRE_LIMIT = 2.0  # sharper corners are bevelled: a spike would overshoot onto land
_LAND_TOL_M = 5.0  # metres: far below the 161 m rule it is checked against
_SEA_TOL_M = 10.0
_SAMPLE_DEG = 0.01  # lon/lat densification before projecting (≈ 1 km, curvature error ≪ 1 m)
_SEARCH_STEPS = 8
_BIG_LAND_M2 = 5e6  # Ceuta is 18.5 km², Melilla 12 km²; offshore rocks are smaller


@dataclass(frozen=True)
class Footprint:
    polygon: BaseGeometry  # lon/lat Polygon (MultiPolygon if Z is split), ≤ max_vertices
    exact: BaseGeometry  # Z = disk ∩ national territory, lon/lat
    vertex_count: int  # GeoJSON ring vertices, closing repeat excluded, holes included
    overshoot_land_m: float  # greatest distance from P ∩ land ∖ Z to Z (upper bound)
    overshoot_sea_m: float  # greatest distance from P ∩ sea to Z (upper bound)
    meets_wea_rule: bool  # overshoot_land_m ≤ 161 m


def footprint(
    center: Point, radius_km: float, territory: Territory, max_vertices: int
) -> Footprint:
    """The polygon to send for the geodesic disk of ``radius_km`` around ``center``."""
    return footprint_of(
        [geodesic_disk_polygon(center, radius_km * 1000.0)], territory, max_vertices
    )


def footprint_of(
    pieces: Sequence[shapely.Polygon], territory: Territory, max_vertices: int
) -> Footprint:
    """The polygon to send for a zone made of ``pieces``.

    Each piece is a lon/lat polygon, convex in lon/lat, that already covers its geodesic
    figure (a disk from ``geodesic_disk_polygon``, or the hull of two such disks); the zone
    is their union. The exact zone Z is that union clipped to the territory.
    """
    if max_vertices < 4:
        raise ValueError("a covering polygon needs a budget of at least 4 vertices")
    if not pieces:
        raise ValueError("a zone needs at least one piece")
    disk = shapely.union_all(list(pieces))
    minx, miny, maxx, maxy = disk.bounds
    center = Point(lon=(minx + maxx) / 2, lat=(miny + maxy) / 2)
    radius_m = _span_m(center, disk.bounds) / 2
    national = shapely.clip_by_rect(territory.national, *disk.bounds)
    exact = _polygonal(shapely.intersection(disk, national))
    if exact.is_empty:
        empty = shapely.Polygon()
        return Footprint(empty, exact, 0, 0.0, 0.0, True)
    plane = _Plane.at(center)
    land_m, count, sea_m, polygon = _covering_polygon(
        exact, disk, territory, plane, radius_m, max_vertices
    )
    return Footprint(
        polygon=polygon,
        exact=exact,
        vertex_count=count,
        overshoot_land_m=land_m,
        overshoot_sea_m=sea_m,
        meets_wea_rule=land_m <= WEA_LIMIT_M,
    )


def _span_m(center: Point, bounds: tuple[float, float, float, float]) -> float:
    minx, miny, maxx, maxy = bounds
    _, _, width = _GEOD.inv(minx, center.lat, maxx, center.lat)
    _, _, height = _GEOD.inv(center.lon, miny, center.lon, maxy)
    return float(max(width, height))


def vertex_count(geometry: BaseGeometry) -> int:
    """GeoJSON ring vertices without the closing repeat, holes included."""
    rings = shapely.get_num_interior_rings(shapely.get_parts(geometry)) + 1
    return int(shapely.get_num_coordinates(geometry) - np.sum(rings))


# --- the disk -------------------------------------------------------------------------------


def geodesic_disk_polygon(center: Point, radius_m: float) -> shapely.Polygon:
    """A lon/lat polygon circumscribing the geodesic disk, chords within ~1 m of the circle.

    Corners at r / cos(π/n) make the chords tangent outside the circle (in the azimuthal
    equidistant plane); a few centimetres more absorb the bend of straight lon/lat chords.
    """
    n = int(min(max(math.ceil(math.pi * math.sqrt(radius_m / (2 * _DISK_CHORD_M))), 64), 4096))
    chord = 2 * math.pi * radius_m / n
    corner_m = radius_m / math.cos(math.pi / n) + 0.01 + chord**2 * 5e-8
    azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats, _ = _GEOD.fwd(
        np.full(n, center.lon), np.full(n, center.lat), azimuths, np.full(n, corner_m)
    )
    if np.ptp(lons) > 180 or not -90 < np.min(lats) < np.max(lats) < 90:
        raise ValueError("the zone crosses the antimeridian or a pole")
    return shapely.Polygon(np.column_stack([lons, lats])[::-1])  # counter-clockwise


# --- the covering polygon -------------------------------------------------------------------


@dataclass(frozen=True)
class _Plane:
    """An affine image of lon/lat scaled to ≈ metres at the centre.

    Affine, so straight lines stay straight both ways: what covers here covers on the map.
    """

    center: Point
    kx: float  # metres per degree of longitude at lat0
    ky: float  # metres per degree of latitude at lat0

    @classmethod
    def at(cls, center: Point) -> _Plane:
        # Local scales from the ellipsoid: a short step east and north, measured geodesically.
        step = 1e-3
        _, _, east = _GEOD.inv(center.lon, center.lat, center.lon + step, center.lat)
        lat_b = center.lat + step if center.lat < 89 else center.lat - step
        _, _, north = _GEOD.inv(center.lon, center.lat, center.lon, lat_b)
        return cls(center, east / step, north / step)

    def to_plane(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            geometry, lambda c: (c - (self.center.lon, self.center.lat)) * (self.kx, self.ky)
        )

    def to_lonlat(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            geometry, lambda c: c / (self.kx, self.ky) + (self.center.lon, self.center.lat)
        )


def _covering_polygon(
    exact: BaseGeometry,
    disk: BaseGeometry,
    territory: Territory,
    plane: _Plane,
    radius_m: float,
    max_vertices: int,
) -> tuple[float, int, float, BaseGeometry]:
    """The candidate covering polygon with the least land overshoot (ties: fewer vertices).

    Two candidates: the sea fill kept off all outside land (tight, but every offshore rock
    cuts the fill and costs a ring of vertices), and kept off only outside land of at least
    ``_BIG_LAND_M2`` (rocks and islets are then swallowed: overshoot of their distance to Z).
    """
    zone = plane.to_plane(exact)
    outside = _outside_land(exact, disk, territory, plane)
    field = _DistanceField(exact, plane.center)
    candidates: list[tuple[float, int, float, BaseGeometry]] = []
    for keep_off in (outside, _big_parts(outside)):
        polygon = _candidate(zone, keep_off, plane, radius_m, max_vertices, exact)
        land_m, sea_m = measure_overshoot(polygon, territory, field)
        candidates.append((land_m, vertex_count(polygon), sea_m, polygon))
        if land_m <= WEA_LIMIT_M:
            break  # already within the rule: the second candidate cannot matter enough
    return min(candidates, key=lambda c: c[:3])


def _candidate(
    zone: BaseGeometry,
    outside: BaseGeometry,
    plane: _Plane,
    radius_m: float,
    max_vertices: int,
    exact: BaseGeometry,
) -> BaseGeometry:
    gap = max(radius_m / 150.0, 50.0)
    polygon: BaseGeometry | None = None
    for _ in range(3):
        target = _target(zone, outside, gap)
        fitted = _fit(target, max_vertices, _SAFETY_M, limit=radius_m)
        if fitted is None:
            break
        tolerance, polygon = fitted
        # Everything P adds to T lies within t + (mitre) · (t + ε) of T; while that is less
        # than the gap, the sea fill cannot push P onto land far from Z.
        reach = tolerance + _MITRE_LIMIT * (tolerance + _SAFETY_M)
        if reach < gap:
            break
        gap = 2 * reach
    if polygon is not None:
        result = _verified(plane.to_lonlat(polygon), exact, max_vertices)
        if result is not None:
            return result
    return _fallback(zone, plane, exact)


def _big_parts(outside: BaseGeometry) -> BaseGeometry:
    parts = shapely.get_parts(outside)
    return shapely.multipolygons(parts[shapely.area(parts) >= _BIG_LAND_M2])


def _outside_land(
    exact: BaseGeometry, disk: shapely.Polygon, territory: Territory, plane: _Plane
) -> BaseGeometry:
    """Land near the zone that is not in it (foreign land, territory beyond the radius)."""
    minx, miny, maxx, maxy = disk.bounds
    pad = 0.5  # degrees: reach the coasts just outside the disk too
    land = shapely.clip_by_rect(territory.land, minx - pad, miny - pad, maxx + pad, maxy + pad)
    return plane.to_plane(shapely.difference(land, exact))


def _target(zone: BaseGeometry, outside: BaseGeometry, gap: float) -> BaseGeometry:
    """T = Z ∪ (hull(Z) away from outside land): the coastline disappears into the sea."""
    hull = shapely.convex_hull(zone)
    nearby = shapely.clip_by_rect(outside, *shapely.buffer(hull, gap).bounds)
    keep_off = shapely.buffer(nearby, gap, quad_segs=2)
    fill = shapely.difference(hull, keep_off)
    target = _polygonal(shapely.union(zone, fill))
    # Sea pockets cut off from Z by outside land are not needed: drop them (they cost vertices).
    parts = shapely.get_parts(target)
    touching = parts[shapely.intersects(parts, zone)]
    return shapely.multipolygons(touching) if len(touching) > 1 else touching[0]


def _cover(target: BaseGeometry, tolerance: float, safety: float) -> BaseGeometry:
    simplified = shapely.simplify(target, tolerance, preserve_topology=True)
    return shapely.buffer(
        simplified, tolerance + safety, join_style="mitre", mitre_limit=_MITRE_LIMIT
    )


def _fit(
    target: BaseGeometry, max_vertices: int, safety: float, limit: float
) -> tuple[float, BaseGeometry] | None:
    """The smallest tolerance (by bisection on a log scale) whose cover fits the budget.

    None when even a tolerance of ``limit`` does not fit (many separate parts or holes).
    """
    # Start near the answer: a polygon of n vertices along a boundary of length L deviates
    # by roughly L / n² from it; the search then needs a handful of steps, not a dozen.
    low = 0.0
    high = max(1.0, shapely.length(target) / max_vertices**2)
    best = _cover(target, high, safety)
    while vertex_count(best) > max_vertices:
        if high > limit:
            return None
        low, high = high, high * 4
        best = _cover(target, high, safety)
    for _ in range(_SEARCH_STEPS):
        middle = math.sqrt(low * high) if low > 0 else high / 4
        candidate = _cover(target, middle, safety)
        if vertex_count(candidate) <= max_vertices:
            high, best = middle, candidate
        else:
            low = middle
        if high - low < max(0.1 * high, 0.5):  # vertex counts step; 10% is close enough
            break
    return high, best


def _verified(polygon: BaseGeometry, exact: BaseGeometry, max_vertices: int) -> BaseGeometry | None:
    polygon = _polygonal(polygon)
    if not polygon.is_valid or vertex_count(polygon) > max_vertices:
        return None
    shapely.prepare(polygon)
    return polygon if shapely.covers(polygon, exact) else None


def _fallback(zone: BaseGeometry, plane: _Plane, exact: BaseGeometry) -> BaseGeometry:
    """A rotated rectangle around Z: 4 vertices, always covering, loose on land."""
    rectangle = shapely.oriented_envelope(zone)
    grown = shapely.buffer(rectangle, 10 * _SAFETY_M, join_style="mitre", mitre_limit=2.0)
    polygon = _polygonal(plane.to_lonlat(grown))
    if not shapely.covers(polygon, exact):
        raise RuntimeError("could not build a covering polygon")
    return polygon


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Only the areal parts (overlays can return stray points or lines on shared edges)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = shapely.get_parts(geometry)
    polygons = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if polygons else shapely.Polygon()


# --- overshoot, in metres -------------------------------------------------------------------


def measure_overshoot(
    polygon: BaseGeometry, territory: Territory, field: _DistanceField
) -> tuple[float, float]:
    """(land, sea): the greatest distance in metres from P ∩ land ∖ Z and from P ∩ sea to Z.

    Maxima are taken over the boundaries of P ∩ land and P ∖ land (P's edges and the coasts
    inside P), where they occur unless Z surrounds a patch of outside land inside P.
    """
    land = _land_near(territory, polygon)
    on_land = shapely.intersection(polygon, land)
    at_sea = shapely.difference(polygon, land)
    return (
        field.max_over(shapely.boundary(_polygonal(on_land)), _LAND_TOL_M),
        field.max_over(shapely.boundary(_polygonal(at_sea)), _SEA_TOL_M, relative=0.008),
    )


def _land_near(territory: Territory, polygon: BaseGeometry) -> BaseGeometry:
    return shapely.clip_by_rect(territory.land, *polygon.bounds)


class _DistanceField:
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

    def distances(self, points: FloatArray) -> FloatArray:
        if len(points) == 0:
            return np.zeros(0)
        geoms = shapely.points(points)
        pairs = self._tree.query_nearest(geoms, all_matches=False)
        nearest = np.empty(len(points), dtype=np.int64)
        nearest[pairs[0]] = pairs[1]
        return _point_segment_distance(points, self._starts[nearest], self._ends[nearest])

    def max_over(self, lines: BaseGeometry, tolerance: float, relative: float = 0.0) -> float:
        """Upper bound (within ``tolerance`` + ``relative`` × the result) of the distance to Z
        over ``lines``. Sea overshoot is tens of kilometres and harmless: a relative bound
        saves most of the search there."""
        starts, ends = _segments(self.project_lines(lines))
        if len(starts) == 0:
            return 0.0
        f_start, f_end = self.distances(starts), self.distances(ends)
        best = float(max(f_start.max(), f_end.max()))
        while len(starts):
            length = np.hypot(*(ends - starts).T)
            bound = (f_start + f_end + length) / 2
            open_ = bound > best * (1 + relative) + tolerance
            starts, ends, f_start, f_end = starts[open_], ends[open_], f_start[open_], f_end[open_]
            if not len(starts):
                break
            # Split each open interval in four and evaluate the three inner points.
            t = np.array([0.25, 0.5, 0.75])
            inner = starts[:, None, :] + (ends - starts)[:, None, :] * t[None, :, None]
            f_inner = self.distances(inner.reshape(-1, 2)).reshape(-1, 3)
            best = max(best, float(f_inner.max()))
            knots = np.concatenate([starts[:, None], inner, ends[:, None]], axis=1)
            f_knots = np.concatenate([f_start[:, None], f_inner, f_end[:, None]], axis=1)
            starts, ends = knots[:, :-1].reshape(-1, 2), knots[:, 1:].reshape(-1, 2)
            f_start, f_end = f_knots[:, :-1].ravel(), f_knots[:, 1:].ravel()
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
