"""A polygon with holes as hole-free parts that tile it: pure geometry, no I/O.

CAP 1.2 polygons have no holes (one ring each; an ``<area>`` is the union of its polygons), so
a zone around an enclave (Ceuta, Melilla, the Spanish islets) cannot be sent as one ring with
the enclave cut out: an outer ring alone would alert the enclave. Instead the polygon is cut
along a chord through each hole, from its outer ring to its outer ring: the hole becomes two
notches in the parts' outer rings, and the parts together are exactly the polygon (they share
the chord's edges, so there is no gap between them to leave part of the zone out).

The chord is the stretch of a straight line through a point inside the hole that lies within
the outer ring. Of a few directions, the shortest chord is tried first (fewer new vertices far
away, fewer other parts of the ring crossed); a direction is skipped when the chord passes
within ``min_gap_m`` of a vertex (the new vertex there would make an edge too short to be
worth one of the budget's vertices, or a sliver no overlay resolves).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

_DIRECTIONS = 8  # chord directions tried, evenly spread over 180°
_OVERHANG = 1e-7  # degrees (~1 cm): the chord must cross the ring to split it, not end on it
_M_PER_DEG = 111_195.0  # metres per degree of latitude (mean): enough to space vertices

FloatArray = npt.NDArray[np.float64]


def hole_free_parts(geometry: BaseGeometry, min_gap_m: float = 1.0) -> list[shapely.Polygon]:
    """The polygons of ``geometry``, each polygon with holes cut into hole-free parts.

    Their union is ``geometry``. A polygon whose holes cannot all be cut (no chord found that
    keeps clear of its vertices) is returned whole, holes and all: the caller checks
    ``has_holes`` and decides.
    """
    done: list[shapely.Polygon] = []
    for polygon in shapely.get_parts(geometry):
        if not isinstance(polygon, shapely.Polygon):
            continue
        if not polygon.interiors:
            done.append(polygon)
            continue
        done.extend(_cut(polygon, min_gap_m) or [polygon])
    return done


def has_holes(parts: list[shapely.Polygon]) -> bool:
    """Whether any part has an interior ring, which a CAP polygon cannot carry."""
    return any(p.interiors for p in parts)


def _cut(polygon: shapely.Polygon, min_gap_m: float) -> list[shapely.Polygon] | None:
    """``polygon`` split along one chord per hole (a hole another chord crosses needs none).

    All chords cut in one overlay: cutting one part after another would add a vertex to one
    side of an earlier cut and not to the other, and the parts would no longer share it."""
    shell = shapely.Polygon(polygon.exterior)
    vertices = shapely.get_coordinates(polygon)
    holes = sorted((shapely.Polygon(r) for r in polygon.interiors), key=lambda h: -h.area)
    chords: list[shapely.LineString] = []
    for hole in holes:
        if chords and shapely.intersects(shapely.MultiLineString(chords), hole.exterior):
            continue
        inside = hole.point_on_surface()
        spaced = (c for c in _chords(shell, inside) if _spaced(c, vertices, min_gap_m))
        chord = next(spaced, None)
        if chord is None:
            return None
        chords.append(chord)
    parts = list(shapely.get_parts(split(polygon, shapely.MultiLineString(chords))))
    whole = math.isclose(sum(p.area for p in parts), polygon.area, rel_tol=1e-9, abs_tol=1e-14)
    if not whole or has_holes(parts):
        return None
    return parts


def _chords(shell: shapely.Polygon, inside: shapely.Point) -> list[shapely.LineString]:
    """Chords of ``shell`` through ``inside``, shortest first, each a little overhanging.

    Along the line through ``inside`` in direction d, the ring is crossed at parameters t;
    the nearest crossing on each side bounds the stretch inside the ring that holds
    ``inside`` (the ring is simple). All directions and edges at once, in numpy."""
    p = np.array([inside.x, inside.y])
    # Directions are spread evenly on the ground, not in degrees of lon/lat.
    squash = math.cos(math.radians(inside.y))
    angles = np.pi * np.arange(_DIRECTIONS) / _DIRECTIONS
    d = np.column_stack([np.cos(angles) / squash, np.sin(angles)])  # (k, 2)
    ring = shapely.get_coordinates(shell.exterior)
    a, e = ring[:-1], ring[1:] - ring[:-1]  # edges a + s·e, s in [0, 1]
    # Solve p + t·d = a + s·e for each direction and edge (2-D cross products).
    denominator = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]
    w = a[None, :, :] - p[None, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[..., 0] * e[None, :, 1] - w[..., 1] * e[None, :, 0]) / denominator
        s = (w[..., 0] * d[:, None, 1] - w[..., 1] * d[:, None, 0]) / denominator
    crossing = np.isfinite(t) & (s >= 0.0) & (s <= 1.0)
    ahead = np.where(crossing & (t > 0), t, np.inf).min(axis=1)
    behind = np.where(crossing & (t < 0), t, -np.inf).max(axis=1)
    found = []
    for k in np.flatnonzero(np.isfinite(ahead) & np.isfinite(behind)):
        unit = d[k] / np.hypot(*d[k])
        start = p + behind[k] * d[k] - unit * _OVERHANG
        end = p + ahead[k] * d[k] + unit * _OVERHANG
        length = float((ahead[k] - behind[k]) * np.hypot(d[k][0] * squash, d[k][1]))
        found.append((length, shapely.LineString([start, end])))
    found.sort(key=lambda item: item[0])
    return [chord for _, chord in found]


def _spaced(chord: shapely.LineString, vertices: FloatArray, min_gap_m: float) -> bool:
    """Whether every vertex is ``min_gap_m`` or more from ``chord``.

    A vertex closer than that would make a short edge where the chord crosses the rings, or
    a sliver where the chord passes it without crossing (which no overlay can resolve)."""
    squash = math.cos(math.radians(float(np.mean(vertices[:, 1]))))
    scale = np.array([squash * _M_PER_DEG, _M_PER_DEG])
    line = shapely.LineString(np.asarray(chord.coords) * scale)
    distances = shapely.distance(shapely.points(vertices * scale), line)
    return bool(np.min(distances) >= min_gap_m)
