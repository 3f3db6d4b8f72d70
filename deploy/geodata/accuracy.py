"""How far one boundary lies from another, in metres: what the build proves about the
shipped boundaries against their source, and what the tests check again.

Pure. Points every ~11 m along one set of lines; for each, the nearest point of the other
found in lon/lat and measured on the WGS84 ellipsoid. The lon/lat-nearest point is a point
of the other line, so the distance is an upper bound of the true nearest distance: a bound
proven this way holds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.geodesy import WGS84

SPACING = 1e-4  # degrees between sampled points (≈ 11 m)


def segments(lines: BaseGeometry) -> npt.NDArray[np.object_]:
    """Every edge of ``lines`` (or of a polygon's rings) as its own two-point line."""
    out = [np.empty((0, 2, 2))]
    for part in shapely.get_parts(shapely.get_parts(lines)):
        rings = shapely.get_parts(shapely.boundary(part)) if part.geom_type == "Polygon" else [part]
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            out.append(np.stack([xy[:-1], xy[1:]], axis=1))
    result: npt.NDArray[np.object_] = shapely.linestrings(np.concatenate(out))
    return result


def distances_m(
    from_lines: BaseGeometry, to_edges: npt.NDArray[np.object_]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points sampled along ``from_lines`` and each one's distance (metres, upper bound) to
    the nearest of ``to_edges``."""
    boundary = (
        from_lines if from_lines.geom_type.endswith("LineString") else shapely.boundary(from_lines)
    )
    xy = shapely.get_coordinates(shapely.segmentize(boundary, SPACING))
    points = shapely.points(xy)
    tree = shapely.STRtree(to_edges)
    index = tree.query_nearest(points, all_matches=False)
    nearest = shapely.get_coordinates(
        shapely.shortest_line(points[index[0]], to_edges[index[1]])
    ).reshape(-1, 2, 2)[:, 1]
    _, _, metres = WGS84.inv(xy[index[0], 0], xy[index[0], 1], nearest[:, 0], nearest[:, 1])
    return xy[index[0]], np.asarray(metres, dtype=np.float64)
