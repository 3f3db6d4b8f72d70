"""Where a sent polygon may run: the territory, grown over the sea, kept off foreign land.

Pure geometry. Drawing the layers takes seconds, so the data build ships them beside the
boundaries (``layers_document``); a territory without that file draws them at start.

A zone's polygon must cover the territory's part of the zone, may run freely over the sea
(nobody lives there) and must stay off foreign land. So the footprint is built as the
intersection of a convex cover of the zone with an *allowed area* A: a polygon that contains
the whole territory, extends over the sea, and follows the land borders (Algeria, Mauritania,
Ceuta, Melilla) within a reach. A follows them at several reaches, one layer each: the
footprint picks the finest layer whose vertices still fit its budget.

Each layer is built in an affine image of lon/lat (≈ metres in the middle of the territory):
base = territory ∪ sea fill, where the sea fill is everything kept well off foreign land and
drawn coarsely (over the sea nobody is alerted, so vertices there are wasted); then A is
drawn through the band between base and base grown by the reach (``band_path``), so A ⊇
territory and A runs at most the reach onto foreign land. Affine images keep straight lines
straight, so covering in that plane is covering on the map.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.band_path import band_polygon
from alert_engine.local_plane import LocalPlane
from shared.alert_contract import Point

# How far a layer may run onto foreign land, in metres, finest first; 140 m is the finest
# within the 161 m rule where the plane stretches distances most (6% at 21°N).
LAYER_REACHES_M = (
    20.0,
    40.0,
    80.0,
    140.0,
    300.0,
    600.0,
    1200.0,
    2500.0,
    5e3,
    10e3,
    20e3,
    40e3,
    80e3,
)
_SAFETY_M = 2.0  # ε: rounding can never uncover the territory
_MARGIN_M = 400e3  # how far beyond the territory the sea may be used (wider than any hull)
# The sea fill keeps at least this far off foreign land (and three reaches for coarse
# layers), drawn within a fifth of it: the coast across the water stays out of reach.
_SEA_GAP_M = 5e3
_DECIMALS = 7


@dataclass(frozen=True)
class AllowedLayer:
    reach_m: float  # how far A runs onto foreign land at most, from the territory
    polygon: BaseGeometry  # lon/lat
    # Its vertices (lon/lat), kept to count those inside a zone without an overlay.
    vertices: npt.NDArray[np.float64] = field(
        repr=False, compare=False, default_factory=lambda: np.zeros((0, 2))
    )


def allowed_layers(national: BaseGeometry, foreign_land: BaseGeometry) -> tuple[AllowedLayer, ...]:
    """One allowed area per reach of ``LAYER_REACHES_M``, finest first."""
    minx, miny, maxx, maxy = national.bounds
    # Metres at the middle of the territory; the scale is off by up to ~10% at its ends,
    # which only shifts the ladder of reaches a little.
    plane = LocalPlane.at(Point(lon=(minx + maxx) / 2, lat=(miny + maxy) / 2))
    territory = plane.to_plane(national)
    frame = shapely.buffer(shapely.box(*territory.bounds), _MARGIN_M, join_style="mitre")
    foreign = shapely.clip_by_rect(plane.to_plane(foreign_land), *frame.bounds)
    bases: dict[float, BaseGeometry] = {}
    layers = []
    for reach in LAYER_REACHES_M:
        gap = max(_SEA_GAP_M, 3 * reach)
        if gap not in bases:
            bases[gap] = _base(territory, frame, foreign, gap)
        drawn = band_polygon(bases[gap], reach - _SAFETY_M, _SAFETY_M)
        # The band keeps A off the territory by ε, except around islets of the territory
        # within the sea fill's gap that A's rings may pass on the wrong side of: added back.
        polygon = plane.to_lonlat(shapely.union(drawn, territory))
        shapely.prepare(polygon)
        layers.append(AllowedLayer(reach, polygon, shapely.get_coordinates(polygon)))
    return tuple(layers)


def layers_document(layers: Sequence[AllowedLayer]) -> dict[str, Any]:
    """The layers as a GeoJSON FeatureCollection, coordinates to 7 decimals (≈ 1 cm, far
    inside the clearance ε; the territory's own vertices have fewer and are kept exactly)."""
    features = []
    for layer in layers:
        rounded = shapely.transform(layer.polygon, lambda xy: np.round(xy, _DECIMALS))
        if not rounded.is_valid:
            raise ValueError(f"the {layer.reach_m:g} m layer is invalid once rounded")
        features.append(
            {
                "type": "Feature",
                "properties": {"reach_m": layer.reach_m},
                "geometry": json.loads(shapely.to_geojson(rounded)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def layers_from_document(document: dict[str, Any]) -> tuple[AllowedLayer, ...]:
    """The layers of a ``layers_document``, prepared, finest first."""
    layers = []
    for feature in document["features"]:
        polygon = shapely.from_geojson(json.dumps(feature["geometry"]))
        shapely.prepare(polygon)
        reach = float(feature["properties"]["reach_m"])
        layers.append(AllowedLayer(reach, polygon, shapely.get_coordinates(polygon)))
    return tuple(sorted(layers, key=lambda layer: layer.reach_m))


def _base(
    territory: BaseGeometry, frame: BaseGeometry, foreign: BaseGeometry, gap: float
) -> BaseGeometry:
    """The territory and the sea fill: the frame kept ``gap`` off foreign land, both it and
    the foreign land drawn within a fifth of the gap (so at least 0.6 gap stays clear)."""
    keep_off = shapely.buffer(shapely.simplify(foreign, gap / 5), gap, quad_segs=2)
    sea = shapely.simplify(shapely.difference(frame, keep_off), gap / 5)
    return shapely.union(territory, sea)
