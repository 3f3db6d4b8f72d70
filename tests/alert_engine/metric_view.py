"""The tests' own way to measure zones in metres, independent of the engine's geodesy: edges
densified in lon/lat, then projected to an ellipsoidal azimuthal equidistant plane (pyproj)
centred on the zone, where distances near the centre are true metres."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from pyproj import Transformer

SAMPLE_DEG = 0.0005  # ≈ 50 m: the densification step


def metric_projection(
    center: tuple[float, float],
) -> Callable[[shapely.Geometry], shapely.Geometry]:
    """Densify-and-project, for a (lon, lat) centre."""
    to_aeqd = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={center[1]} +lon_0={center[0]} +datum=WGS84 +units=m",
        always_xy=True,
    )

    def project(geometry: shapely.Geometry) -> shapely.Geometry:
        dense = shapely.segmentize(geometry, SAMPLE_DEG)
        return shapely.transform(dense, lambda c: np.column_stack(to_aeqd.transform(*c.T)))

    return project
