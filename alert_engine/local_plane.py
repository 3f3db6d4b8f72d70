"""An affine image of lon/lat scaled to about metres around a point: pure, no I/O.

Affine, so straight lines stay straight both ways: a polygon that covers another in this
plane covers it on the map too, where GeoJSON draws straight lon/lat edges. Distances in it
are metres only near the centre (the scale drifts with latitude), so it suits tolerances and
constructions, not measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.geodesy import WGS84
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LocalPlane:
    center: Point
    kx: float  # metres per degree of longitude at the centre
    ky: float  # metres per degree of latitude at the centre

    @classmethod
    def at(cls, center: Point) -> LocalPlane:
        # Local scales from the ellipsoid: a short step east and north, measured geodesically.
        step = 1e-3
        _, _, east = WGS84.inv(center.lon, center.lat, center.lon + step, center.lat)
        lat_b = center.lat + step if center.lat < 89 else center.lat - step
        _, _, north = WGS84.inv(center.lon, center.lat, center.lon, lat_b)
        return cls(center, east / step, north / step)

    def to_plane(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, self.xy)

    def to_lonlat(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, self.lonlat)

    def xy(self, lonlat: FloatArray) -> FloatArray:
        return (lonlat - (self.center.lon, self.center.lat)) * (self.kx, self.ky)

    def lonlat(self, xy: FloatArray) -> FloatArray:
        return xy / (self.kx, self.ky) + (self.center.lon, self.center.lat)
