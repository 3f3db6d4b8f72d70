"""The land in small overlapping tiles, each cut once per territory when first needed: pure
geometry, no I/O.

Measuring overshoot cuts the few edges of a sent polygon that cross a coast by the land near
them (``overshoot``). Clipping the whole land (tens of thousands of vertices, a third of a
millisecond however small the rectangle) for each, or once to the polygon's bounds, costs
more than the cuts themselves; a tile holds a few thousand. Tiles overlap their neighbours
by a margin, so any rectangle no wider than the margin lies within one of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

_TILE_DEG = 0.5  # a tile's cell; it reaches _MARGIN_DEG beyond it on every side
# Degrees: the widest rectangle a tile answers for (a sent polygon's edge across a coast is a
# few hundredths of a degree; wider ones clip the whole land).
_MARGIN_DEG = 0.1


@dataclass(frozen=True)
class LandTiles:
    land: BaseGeometry
    # Filled as zones need them: most cells are sea, or far from any zone.
    _tiles: dict[tuple[int, int], BaseGeometry] = field(default_factory=dict, compare=False)

    def clip(self, minx: float, miny: float, maxx: float, maxy: float) -> BaseGeometry:
        """The land within the rectangle (``shapely.clip_by_rect``), clipped from the tile of
        the cell holding its centre when that tile holds it, else from the whole land."""
        column = math.floor((minx + maxx) / 2 / _TILE_DEG)
        row = math.floor((miny + maxy) / 2 / _TILE_DEG)
        west, south = column * _TILE_DEG - _MARGIN_DEG, row * _TILE_DEG - _MARGIN_DEG
        east, north = (column + 1) * _TILE_DEG + _MARGIN_DEG, (row + 1) * _TILE_DEG + _MARGIN_DEG
        if minx < west or maxx > east or miny < south or maxy > north:
            return shapely.clip_by_rect(self.land, minx, miny, maxx, maxy)
        tile = self._tiles.get((column, row))
        if tile is None:
            tile = shapely.clip_by_rect(self.land, west, south, east, north)
            self._tiles[(column, row)] = tile
        return shapely.clip_by_rect(tile, minx, miny, maxx, maxy)
