"""The base map drawn under every zone: regions, provinces and foreign land, simplified for
display. Pure, no I/O: the ``Territory`` is passed in.

The shipped boundaries are precise to metres (zones are clipped to them) and weigh 2.5 MB;
a map on a screen needs a few hundred metres. Each area is simplified on its own
(Douglas-Peucker, topology preserved) at ``DISPLAY_TOLERANCE_DEG``: neighbours may then
differ along their shared border by up to that tolerance, which no one sees at the scale of a
province, and the whole collection is about a tenth of the source. Foreign land is kept
within ``FOREIGN_MARGIN_DEG`` of the territory: the part of the world a national zone's map
can show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.composer import geojson_geometry
from alert_engine.footprint import polygonal
from alert_engine.territory import Territory

BaseLayer = Literal["region", "province", "foreign"]

# 0.003° is 333 m north–south and 280–310 m east–west in Morocco: "a few hundred metres".
DISPLAY_TOLERANCE_DEG = 0.003
# 4 decimals are 11 m: well under the tolerance, and a third shorter than the 6 of CAP.
DISPLAY_DECIMALS = 4
FOREIGN_MARGIN_DEG = 4.0


@dataclass(frozen=True)
class BaseArea:
    layer: BaseLayer
    geometry: BaseGeometry  # lon/lat, simplified
    name: str  # the French name (the one the boundary data gives every area)
    name_ar: str | None = None
    code: str | None = None  # ISO 3166-2
    region: str | None = None  # a province's region


@dataclass(frozen=True)
class BaseMap:
    areas: tuple[BaseArea, ...]  # foreign land, then regions, then provinces

    def layer(self, layer: BaseLayer) -> tuple[BaseArea, ...]:
        return tuple(a for a in self.areas if a.layer == layer)


def for_display(geometry: BaseGeometry, tolerance_deg: float = DISPLAY_TOLERANCE_DEG) -> Any:
    """``geometry`` simplified within ``tolerance_deg`` and rounded to the display grid."""
    simplified = shapely.simplify(geometry, tolerance_deg, preserve_topology=True)
    rounded = shapely.transform(simplified, lambda xy: np.round(xy, DISPLAY_DECIMALS))
    # Rounding can fold a narrow spit onto itself; a repaired ring draws the same.
    return rounded if rounded.is_valid else polygonal(shapely.make_valid(rounded))


def base_map(territory: Territory, tolerance_deg: float = DISPLAY_TOLERANCE_DEG) -> BaseMap:
    min_x, min_y, max_x, max_y = territory.national.bounds
    margin = FOREIGN_MARGIN_DEG
    foreign = shapely.clip_by_rect(
        territory.foreign_land, min_x - margin, min_y - margin, max_x + margin, max_y + margin
    )
    areas = []
    if not foreign.is_empty:
        areas.append(BaseArea("foreign", for_display(foreign, tolerance_deg), "foreign land"))
    areas += [
        BaseArea(
            area.kind,
            for_display(area.geometry, tolerance_deg),
            area.name_fr,
            area.name_ar or None,
            area.code,
            area.region,
        )
        for area in (*territory.regions, *territory.provinces)
    ]
    return BaseMap(tuple(areas))


def feature_collection(base: BaseMap) -> dict[str, Any]:
    """The base map as an RFC 7946 FeatureCollection, one Feature per area."""
    features = []
    for area in base.areas:
        properties: dict[str, Any] = {"layer": area.layer, "name": area.name}
        if area.name_ar is not None:
            properties["name_ar"] = area.name_ar
        if area.code is not None:
            properties["code"] = area.code
        if area.region is not None:
            properties["region"] = area.region
        geometry = geojson_geometry(area.geometry)
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}
