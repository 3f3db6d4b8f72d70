"""Which land outside the provinces' outline is Moroccan coast and which is a neighbour.

The provinces (morocco-map) and the land mask (roaring-landmask) are two OpenStreetMap
coastlines of different dates and precision (the provinces sit on a ~160 m quantisation
grid). Where the land mask reaches beyond the provinces, the land is either Moroccan shore
the provinces' coarser coast missed (beaches, port moles, the Mar Chica lido) or a neighbour
reached across a land border (Ceuta, Melilla, the Peñón de Vélez de la Gomera, Algeria,
Mauritania). Leaving the shore to neither layer made it "sea" (free to cover); calling it
foreign land would make every coastal zone overshoot onto Moroccan beaches. So the shore
joins the province it touches, and only the pieces holding a named neighbour stay foreign.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# (lon, lat) of one point inside each neighbour the territory meets by land; a piece of
# land-mask land touching the territory is foreign only if it holds one of these.
LAND_NEIGHBOURS = {
    "Ceuta": (-5.3162, 35.8894),
    "Melilla": (-2.9381, 35.2923),
    "Peñón de Vélez de la Gomera": (-4.3006, 35.1725),
    "Algeria (Tlemcen)": (-1.3150, 34.8783),
    "Mauritania (Nouadhibou)": (-17.0347, 20.9310),
}
# Islets off the coast (not touching the territory) are Moroccan shore too — Mogador off
# Essaouira, the rocks off Dakhla — if they lie within ISLET_KM of the territory, unless they
# are Spain's: named here as (lon, lat, radius in metres) or within NEIGHBOUR_ROCKS_KM of a
# neighbour met by land (the rocks off Ceuta and Melilla). Farther islands are foreign.
ISLET_KM = 5.0
NEIGHBOUR_ROCKS_KM = 2.0
SPANISH_ISLETS = {
    "Isla de Perejil": (-5.4186, 35.9140, 500.0),
    "Peñón de Alhucemas, Isla de Mar, Isla de Tierra": (-3.8990, 35.2150, 1200.0),
    "Islas Chafarinas": (-2.4300, 35.1810, 2000.0),
}
# Degrees (≈ 2 m): the shore is grown this much so that rounding the files' coordinates
# cannot leave a sliver of land-mask land between the coast and the sea.
SHORE_GROWTH = 2e-5
_TOUCH = 1e-7  # degrees: "touching" after the overlay's floating-point noding


def outside_pieces(land: np.ndarray, territory: BaseGeometry) -> np.ndarray:
    """The land-mask land not in ``territory``, as polygons.

    The land mask comes cut into tiles: the pieces near the territory are merged first, so
    that a neighbour is one piece (one named point then marks all of it)."""
    pieces = np.asarray(land, dtype=object)
    minx, miny, maxx, maxy = territory.bounds
    near = shapely.intersects(pieces, shapely.box(minx - 1, miny - 1, maxx + 1, maxy + 1))
    merged = shapely.get_parts(shapely.union_all(pieces[near]))
    parts = shapely.get_parts(
        np.concatenate([shapely.difference(merged, territory), pieces[~near]])
    )
    parts = parts[~shapely.is_empty(parts) & (shapely.area(parts) > 0)]
    polygons: np.ndarray = parts[shapely.get_type_id(parts) == 3]
    return polygons


def neighbours(parts: np.ndarray, territory: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Split pieces outside the territory into (shore, foreign): shore = touching the
    territory and holding no named neighbour, or an islet near it that is not Spain's."""
    touching = shapely.dwithin(parts, territory, _TOUCH)
    seeds = shapely.points(list(LAND_NEIGHBOURS.values()))
    tree = shapely.STRtree(parts)
    found, held = tree.query(seeds, predicate="within")
    holds = np.zeros(len(parts), dtype=bool)
    holds[held] = True
    missing = [n for k, n in enumerate(LAND_NEIGHBOURS) if k not in set(found.tolist())]
    if missing:
        raise RuntimeError(f"no land-mask land outside the territory at {missing}")
    shore = touching & ~holds
    islets = ~touching & shapely.dwithin(parts, territory, _degrees(ISLET_KM * 1000.0))
    near_neighbour = shapely.dwithin(
        parts, shapely.union_all(parts[holds]), _degrees(NEIGHBOUR_ROCKS_KM * 1000.0)
    )
    spanish = np.zeros(len(parts), dtype=bool)
    for lon, lat, radius_m in SPANISH_ISLETS.values():
        spanish |= shapely.dwithin(parts, shapely.Point(lon, lat), _degrees(radius_m))
    shore |= islets & ~near_neighbour & ~spanish
    return parts[shore], parts[~shore]


def _degrees(metres: float) -> float:
    return metres / 111_000.0  # of latitude; the radii above are generous by design


def with_shore(provinces: Sequence[BaseGeometry], shore: np.ndarray) -> list[BaseGeometry]:
    """Each province with the shore pieces nearest to it, grown by ``SHORE_GROWTH`` (over the
    sea only: never into another province)."""
    territory = shapely.coverage_union_all(list(provinces))
    grown = shapely.difference(
        shapely.buffer(shapely.union_all(shore), SHORE_GROWTH, quad_segs=2), territory
    )
    pieces = shapely.get_parts(grown)
    owner = shapely.STRtree(list(provinces)).query_nearest(
        shapely.point_on_surface(pieces), all_matches=False
    )[1]
    added: list[list[BaseGeometry]] = [[] for _ in provinces]
    for piece, index in zip(pieces, owner, strict=True):
        added[int(index)].append(piece)
    return [
        shapely.union_all([province, *extra]) if extra else province
        for province, extra in zip(provinces, added, strict=True)
    ]
