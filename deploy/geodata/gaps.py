"""The proof that no land is left in neither layer: every point the land mask calls land is
territory or foreign land.

Pure: the land mask's polygons, the two shipped layers and the points are passed in. The
points are a grid over the zone-reachable box, a finer grid near the territory, and points
a few metres either side of the territory's whole boundary, where a thin gap would hide
from any grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

Points = npt.NDArray[np.float64]

# Degrees. Grid spacing over the whole box (≈ 11 km), near the territory (≈ 1.1 km), and
# along its boundary (≈ 55 m), at 10 m and 100 m either side of it.
FAR_SPACING = 0.1
NEAR_SPACING = 0.01
NEAR_MARGIN = 1.0  # degrees around the territory's bounds
BOUNDARY_SPACING = 5e-4
BOUNDARY_OFFSETS = (1e-4, 1e-3)


@dataclass(frozen=True)
class GapCheck:
    land_points: int  # sampled points the land mask calls land
    uncovered: Points  # those in neither layer, (lon, lat) rows

    @property
    def passed(self) -> bool:
        return len(self.uncovered) == 0


def grid(box: tuple[float, float, float, float], spacing: float) -> Points:
    minx, miny, maxx, maxy = box
    lons = np.arange(minx, maxx, spacing)
    lats = np.arange(miny, maxy, spacing)
    xx, yy = np.meshgrid(lons, lats)
    return np.column_stack([xx.ravel(), yy.ravel()])


def boundary_points(territory: BaseGeometry) -> Points:
    """Points beside the territory's boundary, inside and outside it: off the middle of
    every edge (edges no longer than ``BOUNDARY_SPACING``), square to it."""
    rings = shapely.get_parts(shapely.segmentize(shapely.boundary(territory), BOUNDARY_SPACING))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring[:-1] == ring[1:]
    start, edge = xy[:-1][same_ring], (xy[1:] - xy[:-1])[same_ring]
    length = np.hypot(edge[:, 0], edge[:, 1])
    start, edge, length = start[length > 0], edge[length > 0], length[length > 0]
    middle = start + edge / 2
    normal = np.column_stack([-edge[:, 1], edge[:, 0]]) / length[:, None]
    offsets = [sign * d for d in BOUNDARY_OFFSETS for sign in (1.0, -1.0)]
    return np.concatenate([middle + normal * offset for offset in offsets])


def sample_points(territory: BaseGeometry, box: tuple[float, float, float, float]) -> Points:
    minx, miny, maxx, maxy = territory.bounds
    near = (minx - NEAR_MARGIN, miny - NEAR_MARGIN, maxx + NEAR_MARGIN, maxy + NEAR_MARGIN)
    return np.concatenate(
        [grid(box, FAR_SPACING), grid(near, NEAR_SPACING), boundary_points(territory)]
    )


def check_gaps(
    land: np.ndarray,
    territory: BaseGeometry,
    foreign_land: BaseGeometry,
    points: Points,
) -> GapCheck:
    """Which of ``points`` the land mask (``land``, its polygons) calls land but neither
    layer covers."""
    pieces = np.asarray(land, dtype=object)
    # The tree narrows each point to the pieces whose boxes hold it; each piece is then
    # prepared once and tested against all its points (a predicate in the tree query would
    # test every pair unprepared, slow on pieces of 10⁵ vertices).
    found, piece = shapely.STRtree(pieces).query(shapely.points(points))
    land_mask = np.zeros(len(points), dtype=bool)
    order = np.argsort(piece, kind="stable")
    found, piece = found[order], piece[order]
    starts = np.flatnonzero(np.r_[True, piece[1:] != piece[:-1]])
    for start, stop in zip(starts, np.r_[starts[1:], len(piece)], strict=True):
        polygon = pieces[piece[start]]
        shapely.prepare(polygon)
        candidates = found[start:stop]
        xy = points[candidates]
        land_mask[candidates] |= shapely.intersects_xy(polygon, xy[:, 0], xy[:, 1])
    on_land = points[land_mask]
    covered = np.zeros(len(on_land), dtype=bool)
    for layer in (territory, foreign_land):
        shapely.prepare(layer)
        covered |= shapely.intersects_xy(layer, on_land[:, 0], on_land[:, 1])
    return GapCheck(land_points=len(on_land), uncovered=on_land[~covered])
