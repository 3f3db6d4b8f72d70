"""Geodesy on the WGS84 ellipsoid: the one ``Geod``, geodesic disks, distances and areas.

Pure functions, no I/O. Every measurement in metres or square metres in the alert engine goes
through ``WGS84`` (pyproj), so a 160 km zone is 160 km at any latitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from alert_engine.rings import rings_of
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

WGS84 = Geod(ellps="WGS84")

_DISK_CHORD_M = 1.0  # sagitta of a fine disk's chords: the disk is exact to ~1 m
# Chords up to this long bend off the circle by less than the fixed margin below (measured at
# 15–40°N up to 2,000 km); longer ones (coarse disks) are sampled and pushed out instead.
_SHORT_CHORD_M = 10_000.0
_EDGE_SAMPLES = 8  # points per long chord checked against the circle


@dataclass(frozen=True)
class GeodesicDisk:
    polygon: shapely.Polygon  # lon/lat, counter-clockwise, covers the disk
    overshoot_m: float  # the farthest the polygon reaches beyond the disk (at its corners)


def geodesic_disk(center: Point, radius_m: float, vertices: int | None = None) -> GeodesicDisk:
    """A polygon circumscribing the geodesic disk of ``radius_m`` around ``center``.

    With ``vertices`` unset, as many corners as keep every chord within ~1 m of the circle.
    Corners at r / cos(π/n) make the chords tangent outside the circle in the azimuthal
    equidistant plane; but GeoJSON draws chords straight in lon/lat, which bends them a
    little towards the centre. A short chord's bend is covered by a fixed margin of a few
    centimetres; a long one's is measured on sampled points, and the corners pushed out
    until every sample lies outside the circle.
    """
    if vertices is None:
        count = math.ceil(math.pi * math.sqrt(radius_m / (2 * _DISK_CHORD_M)))
        vertices = int(min(max(count, 64), 4096))
    if vertices < 3:
        raise ValueError("a polygon needs at least 3 vertices")
    chord = 2 * math.pi * radius_m / vertices
    corner_m = radius_m / math.cos(math.pi / vertices)
    short = chord <= _SHORT_CHORD_M
    if short:
        corner_m += 0.01 + chord**2 * 5e-8
    for _ in range(8):
        lons, lats = _corners(center, vertices, corner_m)
        if short:
            break
        nearest = float(np.min(distances_m(center, *_edge_samples(lons, lats))))
        if nearest >= radius_m:
            break
        corner_m *= radius_m / nearest * (1 + 1e-9)
    if np.ptp(lons) > 180 or not -90 < np.min(lats) < np.max(lats) < 90:
        # GeoJSON's lon/lat plane cannot draw this disk as one simple ring; national zones
        # never need it, so refuse rather than send partners a wrong area.
        raise ValueError("the zone crosses the antimeridian or a pole")
    # Azimuths run clockwise: reversed, the ring is counter-clockwise as RFC 7946 wants.
    polygon = shapely.Polygon(np.column_stack([lons, lats])[::-1])
    return GeodesicDisk(polygon=polygon, overshoot_m=corner_m - radius_m)


def _corners(center: Point, count: int, corner_m: float) -> tuple[FloatArray, FloatArray]:
    """``count`` points ``corner_m`` from ``center`` at evenly spread azimuths from north,
    clockwise. An ellipsoid of revolution is symmetric about the centre's meridian, so the
    geodesics west of it mirror those east of it: half are computed (the costly part)."""
    east = np.arange(count // 2 + 1)  # azimuths 0° to 180°
    n = len(east)
    lons, lats, _ = WGS84.fwd(
        np.full(n, center.lon), np.full(n, center.lat), 360.0 * east / count, np.full(n, corner_m)
    )
    mirrored = count - np.arange(n, count)  # azimuth 360° − a is a's mirror image
    return (
        np.concatenate([lons, 2 * center.lon - np.asarray(lons)[mirrored]]),
        np.concatenate([lats, np.asarray(lats)[mirrored]]),
    )


def _edge_samples(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Points spread along every straight lon/lat edge of the ring."""
    t = np.linspace(0.0, 1.0, _EDGE_SAMPLES + 1)[:-1]
    next_lons, next_lats = np.roll(lons, -1), np.roll(lats, -1)
    sample_lons = (lons[:, None] + (next_lons - lons)[:, None] * t).ravel()
    sample_lats = (lats[:, None] + (next_lats - lats)[:, None] * t).ravel()
    return sample_lons, sample_lats


def distances_m(center: Point, lons: FloatArray, lats: FloatArray) -> FloatArray:
    """Geodesic distance in metres from ``center`` to each point."""
    n = len(lons)
    _, _, distances = WGS84.inv(np.full(n, center.lon), np.full(n, center.lat), lons, lats)
    return np.asarray(distances)


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid: exact, and no projection to choose per zone.

    Ring by ring from coordinate arrays (pyproj's ``geometry_area_perimeter`` converts
    coordinates through Python lists, several times slower); holes are subtracted."""
    rings = rings_of(geometry)
    return rings_area_m2(rings.points, rings.offsets, ~rings.is_shell)


def rings_area_m2(points: FloatArray, offsets: npt.NDArray[np.int64], is_hole: BoolArray) -> float:
    """``geodesic_area_m2`` of the region bounded by closed lon/lat rings held in one array
    (ring r is ``points[offsets[r]:offsets[r + 1]]``): shells added, holes taken away."""
    total = 0.0
    for start, end, hole in zip(
        offsets[:-1].tolist(), offsets[1:].tolist(), is_hole.tolist(), strict=True
    ):
        area, _ = WGS84.polygon_area_perimeter(points[start:end, 0], points[start:end, 1])
        total += -abs(float(area)) if hole else abs(float(area))
    return max(total, 0.0)
