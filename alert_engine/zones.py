"""The zone's geometry: pure functions, no I/O.

The radius grows with the time since the child was last seen, at the speed of the travel
mode, between a floor and a cap. The circle is geodesic: vertices are placed with pyproj's
``Geod`` on the WGS84 ellipsoid, so a 160 km zone is 160 km at any latitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from pyproj import Geod
from shapely.geometry import Polygon

from alert_engine.territory import Territory
from shared.alert_contract import Point, TravelMode

WGS84 = Geod(ellps="WGS84")
# Samples per edge when checking that the straight lon/lat edges stay outside the circle.
_EDGE_SAMPLES = 8


@dataclass(frozen=True)
class ZonePolicy:
    floor_km: float = 160.0
    cap_km: float = 2000.0
    speeds_kmh: dict[TravelMode, float] = field(
        default_factory=lambda: {
            "foot": 5.0,
            "vehicle": 80.0,
            "public_transport": 60.0,
            "unknown": 80.0,
        }
    )
    vertex_budget: int = 100  # per polygon sent
    # Polygons sent at most: a zone around an enclave is cut into hole-free parts.
    max_polygons: int = 8
    # The land the zone is clipped to; None sends the whole disk (no clipping, no land mask).
    territory: Territory | None = None
    # A trusted location older than the newest one by more than this drops out of the union:
    # a fresh fix makes an hours-old one a hedge no longer worth the extra ground.
    sighting_horizon: timedelta = timedelta(hours=3)
    # A location with a direction of travel gets a corridor whose half-width is this share of
    # its reach (never less than the floor).
    bias_side_fraction: float = 0.35


def radius_km(policy: ZonePolicy, mode: TravelMode, last_seen: datetime, at: datetime) -> float:
    """``clamp(floor, speed(mode) × elapsed, cap)``."""
    elapsed_h = max((at - last_seen).total_seconds(), 0.0) / 3600.0
    reach = policy.speeds_kmh[mode] * elapsed_h
    return min(max(policy.floor_km, reach), policy.cap_km)


@dataclass(frozen=True)
class Zone:
    center: Point
    radius_km: float
    polygon: Polygon  # lon/lat, covers the geodesic disk
    overshoot_m: float  # greatest distance from the polygon to the disk

    @property
    def vertex_count(self) -> int:
        return len(self.polygon.exterior.coords) - 1


def geodesic_disk(center: Point, radius_km: float, vertices: int) -> Zone:
    """A polygon of ``vertices`` corners covering the geodesic disk of ``radius_km``.

    A regular polygon circumscribing a circle of radius r has its corners at r / cos(π/n).
    The edges are straight in lon/lat (as GeoJSON draws them), which bends them slightly off
    the ellipsoid; the corners are pushed out until every sampled edge point is outside the
    circle, so the polygon really covers the zone.
    """
    if vertices < 3:
        raise ValueError("a polygon needs at least 3 vertices")
    radius_m = radius_km * 1000.0
    azimuths = np.linspace(0.0, 360.0, vertices, endpoint=False)
    corner_m = radius_m / math.cos(math.pi / vertices)
    for _ in range(8):
        lons, lats, _back = WGS84.fwd(
            np.full(vertices, center.lon),
            np.full(vertices, center.lat),
            azimuths,
            np.full(vertices, corner_m),
        )
        nearest = _nearest_edge_distance_m(center, np.asarray(lons), np.asarray(lats))
        if nearest >= radius_m:
            break
        corner_m *= radius_m / nearest * (1 + 1e-9)
    if np.ptp(lons) > 180 or not -90 < np.min(lats) < np.max(lats) < 90:
        # GeoJSON's lon/lat plane cannot draw this disk as one simple ring; national zones
        # never need it, so refuse rather than send partners a wrong area.
        raise ValueError("the zone crosses the antimeridian or a pole")
    polygon = Polygon(zip(lons, lats, strict=True))
    farthest = corner_m  # the corners are the farthest points from the centre
    return Zone(
        center=center, radius_km=radius_km, polygon=polygon, overshoot_m=farthest - radius_m
    )


def _nearest_edge_distance_m(center: Point, lons: np.ndarray, lats: np.ndarray) -> float:
    """Smallest geodesic distance from the centre to points sampled along every edge."""
    t = np.linspace(0.0, 1.0, _EDGE_SAMPLES + 1)[:-1]
    next_lons, next_lats = np.roll(lons, -1), np.roll(lats, -1)
    sample_lons = (lons[:, None] + (next_lons - lons)[:, None] * t).ravel()
    sample_lats = (lats[:, None] + (next_lats - lats)[:, None] * t).ravel()
    _fwd, _back, distances = WGS84.inv(
        np.full(sample_lons.size, center.lon),
        np.full(sample_lats.size, center.lat),
        sample_lons,
        sample_lats,
    )
    return float(np.min(distances))
