"""Land that a sent polygon reaches too far from the zone, cut out where it was found.

Pure geometry, no I/O. The allowed area follows the whole territory, not the zone: where the
zone's edge grazes a land border, territory just outside the zone (within the tangents'
margin of its edge) lets the allowed area keep foreign land beside it, hundreds of metres
from the zone though within metres of its edge. Around each place where the sent polygon was
found reaching land too far, that land is removed, except within ``keep_m`` of the zone: the
polygon then follows the zone's own border there, at the cost of the vertices it takes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.local_plane import LocalPlane
from shared.alert_contract import Point

FloatArray = npt.NDArray[np.float64]

WINDOW_M = 1000.0  # around each point found: the far land near it, and little else
_ARC_SEGMENTS = 2  # per quarter circle: chords lie inside the arcs, so within keep_m


def far_land_near(
    points: FloatArray, exact: BaseGeometry, land: BaseGeometry, keep_m: float
) -> BaseGeometry:
    """The land within ``WINDOW_M`` of ``points`` (lon/lat) farther than ``keep_m`` from Z
    (``exact``), lon/lat. Distances are taken in a local plane at the points' middle: near
    there its scale is true to a fraction of a percent, and Z is kept whole whatever the
    scale (it lies within its own buffer)."""
    if len(points) == 0:
        return shapely.Polygon()
    lon, lat = points.mean(axis=0)
    plane = LocalPlane.at(Point(lon=float(lon), lat=float(lat)))
    x, y = plane.xy(points).T
    windows = shapely.union_all(shapely.box(x - WINDOW_M, y - WINDOW_M, x + WINDOW_M, y + WINDOW_M))
    minx, miny, maxx, maxy = plane.to_lonlat(windows).bounds
    margin = 2 * keep_m / min(plane.kx, plane.ky)  # degrees: Z beyond the windows counts too
    near_zone = shapely.clip_by_rect(
        exact, minx - margin, miny - margin, maxx + margin, maxy + margin
    )
    kept = shapely.buffer(plane.to_plane(near_zone), keep_m, quad_segs=_ARC_SEGMENTS)
    local_land = plane.to_plane(shapely.clip_by_rect(land, minx, miny, maxx, maxy))
    far = shapely.difference(shapely.intersection(local_land, windows), kept)
    return plane.to_lonlat(far)
