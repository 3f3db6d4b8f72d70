"""A polygonal geometry's rings as one coordinate array: pure, no I/O.

Compiled loops and vectorised measurements read rings as arrays rather than as geometries;
this is the one place that lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Rings:
    points: FloatArray  # (n, 2), each ring closed, as the geometry draws it
    offsets: IntArray  # ring r is points[offsets[r]:offsets[r + 1]]
    is_shell: BoolArray  # per ring: a polygon's exterior (else one of its holes)
    ring_of: IntArray  # per vertex


def rings_of(geometry: BaseGeometry) -> Rings:
    """The rings of the non-empty polygons among ``geometry``'s parts (other parts ignored)."""
    parts = shapely.get_parts(geometry)
    polygons = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    rings, owner = shapely.get_rings(polygons, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(ring_of, minlength=len(rings)))])
    # get_rings gives each polygon's exterior first, then its holes.
    is_shell = np.concatenate([[True], owner[1:] != owner[:-1]])[: len(rings)]
    return Rings(
        np.ascontiguousarray(coords),
        offsets.astype(np.int64),
        is_shell.astype(np.bool_),
        ring_of.astype(np.int64),
    )
