"""Where a sent polygon may run: the territory, grown over the sea, kept off foreign land.

Pure geometry, computed once per territory (a fraction of a second) and reused by every zone.

A zone's polygon must cover the territory's part of the zone, may run freely over the sea
(nobody lives there) and must stay off foreign land. So the footprint is built as the
intersection of a convex cover of the zone with an *allowed area* A: a polygon that contains
the whole territory, extends over the sea, and follows the land borders (Algeria, Mauritania,
Ceuta, Melilla) within a tolerance. A follows them at several tolerances, one layer each:
the footprint picks the finest layer whose vertices still fit its budget.

Each layer is built in an affine image of lon/lat (≈ metres in the middle of the territory):
base = territory ∪ (sea and everything else, kept ``gap`` away from foreign land), then
A = base simplified at tolerance t and grown by t + ε. Every point of base lies within t of
the simplified polygon, so A ⊇ base ⊇ territory; and A reaches at most t + mitre · (t + ε)
beyond base, which the gap keeps off coasts across the water. Affine images keep straight
lines straight, so covering in that plane is covering on the map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.local_plane import LocalPlane
from shared.alert_contract import Point

# Tolerances in metres, finest first: the finest follows borders closer than the 161 m rule.
LAYER_TOLERANCES_M = tuple(10.0 * 2**k for k in range(13))  # 10 m … 41 km
_SAFETY_M = 2.0  # ε: rounding can never uncover the territory
_MITRE_LIMIT = 2.0  # sharper corners are bevelled: a spike would run onto land
_MARGIN_M = 400e3  # how far beyond the territory the sea may be used (wider than any hull)


@dataclass(frozen=True)
class AllowedLayer:
    tolerance_m: float
    # How far A typically runs onto foreign land: the simplification (t) and the growth
    # (t + ε). Only mitred corners reach further (up to t + mitre · (t + ε)), and rarely:
    # over Morocco's borders the 99th percentile of A's vertices on foreign land is ~2t.
    reach_m: float
    polygon: BaseGeometry  # lon/lat
    # Its vertices (lon/lat), kept to count those inside a zone without an overlay.
    vertices: npt.NDArray[np.float64] = field(
        repr=False, compare=False, default_factory=lambda: np.zeros((0, 2))
    )


def allowed_layers(national: BaseGeometry, foreign_land: BaseGeometry) -> tuple[AllowedLayer, ...]:
    """One allowed area per tolerance of ``LAYER_TOLERANCES_M``, finest first."""
    minx, miny, maxx, maxy = national.bounds
    # Metres at the middle of the territory; the scale is off by up to ~10% at its ends,
    # which only shifts the tolerance ladder a little.
    plane = LocalPlane.at(Point(lon=(minx + maxx) / 2, lat=(miny + maxy) / 2))
    to_plane, to_lonlat = plane.to_plane, plane.to_lonlat

    territory = to_plane(national)
    frame = shapely.buffer(shapely.box(*territory.bounds), _MARGIN_M, join_style="mitre")
    foreign = shapely.clip_by_rect(to_plane(foreign_land), *frame.bounds)
    layers = []
    for tolerance in LAYER_TOLERANCES_M:
        # The sea fill keeps twice the worst-case reach away from coasts across the water.
        gap = 2 * (tolerance + _MITRE_LIMIT * (tolerance + _SAFETY_M))
        # The keep-off zone needs no precision of its own: simplifying the foreign land by
        # gap / 4 first makes the buffer fast and still keeps the sea fill ≥ ~0.7 gap away.
        keep_off = shapely.buffer(shapely.simplify(foreign, gap / 4), gap, quad_segs=2)
        base = shapely.union(territory, shapely.difference(frame, keep_off))
        simplified = shapely.simplify(base, tolerance, preserve_topology=True)
        grown = shapely.buffer(
            simplified, tolerance + _SAFETY_M, join_style="mitre", mitre_limit=_MITRE_LIMIT
        )
        # Simplifying can cut across the territory where foreign land lies just off its coast
        # (the rocks of Alhucemas, 100–500 m out, at coarse tolerances): the territory is
        # added back so that A always contains it.
        polygon = to_lonlat(shapely.union(grown, territory))
        shapely.prepare(polygon)
        reach = 2 * tolerance + _SAFETY_M
        vertices = shapely.get_coordinates(polygon)
        layers.append(AllowedLayer(tolerance, reach, polygon, vertices))
    return tuple(layers)
