"""Decode TopoJSON (https://github.com/topojson/topojson-specification) into shapely.

TopoJSON is small enough to decode here rather than add a dependency for it: arcs are
delta-encoded integer runs on a quantisation grid, and polygons list arc indices, with a
negative index ``~i`` meaning arc ``i`` reversed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

Arc = NDArray[np.float64]


def decode_arcs(topology: dict[str, Any]) -> list[Arc]:
    """The topology's arcs as absolute lon/lat arrays."""
    transform = topology.get("transform")
    arcs: list[Arc] = []
    for raw in topology["arcs"]:
        points = np.asarray(raw, dtype=np.float64)[:, :2]
        if transform is not None:
            # Quantised arcs store the first position absolutely and then deltas.
            points = np.cumsum(points, axis=0)
            points = points * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
        arcs.append(points)
    return arcs


def _ring(arcs: Sequence[Arc], indices: Sequence[int]) -> Arc:
    parts: list[Arc] = []
    for k, index in enumerate(indices):
        arc = arcs[~index][::-1] if index < 0 else arcs[index]
        # Consecutive arcs share their joining position; keep it once.
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


def decode_geometry(arcs: Sequence[Arc], geometry: dict[str, Any]) -> BaseGeometry:
    """One TopoJSON Polygon or MultiPolygon as a (possibly invalid) shapely geometry."""
    kind = geometry["type"]
    if kind == "Polygon":
        polygons = [geometry["arcs"]]
    elif kind == "MultiPolygon":
        polygons = geometry["arcs"]
    else:
        raise ValueError(f"unsupported TopoJSON geometry type: {kind}")
    built = [
        shapely.Polygon(_ring(arcs, rings[0]), [_ring(arcs, hole) for hole in rings[1:]])
        for rings in polygons
    ]
    return built[0] if len(built) == 1 else shapely.MultiPolygon(built)


def decode_object(topology: dict[str, Any], name: str) -> list[tuple[dict[str, Any], BaseGeometry]]:
    """The features of ``topology.objects[name]`` as (id + properties, geometry) pairs."""
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"][name]["geometries"]:
        attributes = {"id": geometry.get("id"), **geometry.get("properties", {})}
        features.append((attributes, decode_geometry(arcs, geometry)))
    return features
