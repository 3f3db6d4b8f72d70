"""The national territory a zone is clipped to, its administrative areas, and what lies around.

Pure logic over loaded geometry (lon/lat, WGS84), plus one cached loader. The data files are
built by ``deploy/geodata/build.py``; which files to load is a setting passed in, so another
country can plug in its own.

Three surfaces partition the world near Morocco: the territory, ``foreign_land`` (land that
is not territory) and the sea (neither). The polygon-budget work measures overshoot onto
land against ``land`` = territory ∪ foreign land, and treats the rest as sea.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from alert_engine.allowed_area import AllowedLayer, allowed_layers, layers_from_document
from alert_engine.coasts import Coasts
from alert_engine.convex_clip import ClipRings, clipped_rings
from alert_engine.geodesy import geodesic_area_m2, rings_area_m2
from alert_engine.land_tiles import LandTiles

AreaKind = Literal["region", "province"]


@dataclass(frozen=True)
class AdminArea:
    code: str  # ISO 3166-2:MA, e.g. "MA-06" (region) or "MA-CAS" (province)
    kind: AreaKind
    name_fr: str
    name_ar: str
    geometry: BaseGeometry
    region: str | None = None  # a province's parent region


@dataclass(frozen=True)
class Geocode:
    code: str
    kind: AreaKind
    names: dict[str, str]  # by language: "ar", "fr"
    share: float  # fraction of the zone's area inside this area, 0–1


@dataclass(frozen=True)
class Territory:
    regions: tuple[AdminArea, ...]
    provinces: tuple[AdminArea, ...] = ()
    foreign_land: BaseGeometry = field(default_factory=shapely.Polygon)
    # The allowed areas as the data build drew them from these boundaries; () draws them.
    precomputed_allowed: tuple[AllowedLayer, ...] = ()
    # Held by whoever draws a zone on the territory from a thread (``composer.clipped_zone``),
    # or runs any predicate with one of its geometries first (``footprint_of``, ``geocodes``,
    # ``build_indexes``): those geometries are prepared, and a GEOS prepared geometry used by
    # two threads at once can crash the process (its search structures are rebuilt on each
    # call, unlocked; libgeos/geos#825). Overlays and reads alone (``clip``) need no lock.
    drawing: threading.Lock = field(
        default_factory=threading.Lock, compare=False, repr=False, init=False
    )

    @cached_property
    def national(self) -> BaseGeometry:
        # The regions are a coverage (edge-matched), so the fast exact coverage union applies.
        polygon = shapely.coverage_union_all([r.geometry for r in self.regions])
        shapely.prepare(polygon)
        return polygon

    @cached_property
    def land(self) -> BaseGeometry:
        polygon = shapely.union_all([self.national, self.foreign_land])
        shapely.prepare(polygon)
        return polygon

    @cached_property
    def land_tiles(self) -> LandTiles:
        """The land in small tiles, for clipping it near a point cheaply (each cut when
        first used)."""
        return LandTiles(self.land)

    @cached_property
    def national_rings(self) -> ClipRings:
        """The national boundary's rings as arrays, for clipping zones to it (read once)."""
        return ClipRings.of(self.national)

    @cached_property
    def coasts(self) -> Coasts:
        """The coasts as indexed segments, for measuring overshoot (computed once)."""
        return Coasts.of(self.national, self.land)

    @cached_property
    def allowed(self) -> tuple[AllowedLayer, ...]:
        """Where sent polygons may run, at several reaches onto foreign land (shipped, or
        drawn once: a few seconds)."""
        return self.precomputed_allowed or allowed_layers(self.national, self.foreign_land)

    @cached_property
    def allowed_vertices(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Every allowed area's vertices in one array (lon/lat), with the index of the layer
        each belongs to: counting those in a zone is then one pass, not one per layer.
        Sorted by longitude, so that a zone's band of longitudes is found by a binary search
        rather than by comparing every vertex."""
        layers = self.allowed
        vertices = np.concatenate([a.vertices for a in layers]) if layers else np.zeros((0, 2))
        layer = np.repeat(np.arange(len(layers), dtype=np.int64), [len(a.vertices) for a in layers])
        order = np.argsort(vertices[:, 0], kind="stable")
        return np.ascontiguousarray(vertices[order]), layer[order]

    @cached_property
    def _areas(self) -> tuple[AdminArea, ...]:
        return self.regions + self.provinces

    @cached_property
    def _geometries(self) -> npt.NDArray[np.object_]:
        """The areas' geometries, prepared: every zone is tested against them."""
        geometries = np.asarray([a.geometry for a in self._areas], dtype=object)
        shapely.prepare(geometries)
        return geometries

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._geometries)

    def build_indexes(self) -> None:
        """Build now what zones read, each once (the land union, the boundary's and the
        areas' rings, the coasts' index, the areas' sizes, the allowed areas), rather than
        while the first alert waits."""
        with self.drawing:  # the coasts' index tests against the prepared boundary
            _ = self.land, self.allowed, self.national_rings, self.coasts
            _ = self._clip_rings, self._area_m2

    def clip(self, zone: BaseGeometry) -> BaseGeometry:
        """The part of ``zone`` (e.g. a geodesic disk) on the national territory."""
        return shapely.intersection(zone, self.national)

    def geocodes(
        self, zone: BaseGeometry, unclipped: BaseGeometry | None = None, *, convex: bool = False
    ) -> list[Geocode]:
        """The regions, then provinces, that ``zone`` covers, each with its share of the zone's
        ellipsoidal area on the territory.

        ``unclipped``, if given, is what ``zone`` was clipped from (e.g. the geodesic disk):
        every area lies in the territory, so its overlays with it are the same, and a disk of a
        few hundred vertices is far cheaper to overlay than the zone with its coasts. If it is
        one ``convex`` polygon (a disk), each area is clipped to it without the general
        overlay (``convex_clip``), and only its area is measured.
        """
        overlaid = zone if unclipped is None else unclipped
        shapely.prepare(overlaid)
        window = overlaid if convex and isinstance(overlaid, shapely.Polygon) else None
        near = self._tree.query(overlaid)
        # Each area near tested with its own prepared geometry: the zone's few hundred
        # vertices located in the area, not the area's thousands in the zone.
        touched = sorted(int(i) for i in near[shapely.intersects(self._geometries[near], overlaid)])
        measured = {i: self._inside_m2(i, overlaid, window) for i in touched if not self._summed(i)}
        # None: that area holds the whole zone, which is then all on the territory.
        whole = geodesic_area_m2(overlaid) if None in measured.values() else 0.0
        inside = {i: whole if m2 is None else m2 for i, m2 in measured.items()}
        for i in touched:
            if self._summed(i):
                # A region is the union of its provinces (the data is one coverage): its
                # share is theirs added up, with no overlay of its own.
                code = self._areas[i].code
                inside[i] = sum(m2 for j, m2 in inside.items() if self._areas[j].region == code)
        # The regions tile the territory: their parts add up to the zone's part on it, with
        # no pass over the zone's (coast-detailed) outline.
        total = sum(inside[i] for i in touched if self._areas[i].kind == "region")
        if total == 0.0:
            return []
        codes = []
        for i in touched:
            share = inside[i] / total
            if share <= 0.0:
                continue  # touches along an edge only
            area = self._areas[i]
            codes.append(
                Geocode(
                    code=area.code,
                    kind=area.kind,
                    names={"ar": area.name_ar, "fr": area.name_fr},
                    share=min(share, 1.0),
                )
            )
        return codes

    def _summed(self, index: int) -> bool:
        """Whether area ``index`` is a region whose provinces are all loaded."""
        return self._areas[index].kind == "region" and self._areas[index].code in self._divided

    @cached_property
    def _divided(self) -> frozenset[str]:
        """Regions whose loaded provinces cover them (checked: another country's files may
        come with some provinces missing, and then the region is measured itself)."""
        by_code = {a.code: i for i, a in enumerate(self._areas)}
        divided = set()
        for region in self.regions:
            parts = [by_code[p.code] for p in self.provinces if p.region == region.code]
            summed = sum(self._area_m2[i] for i in parts)
            if parts and math.isclose(summed, self._area_m2[by_code[region.code]], rel_tol=1e-3):
                divided.add(region.code)
        return frozenset(divided)

    def _inside_m2(
        self, index: int, zone: BaseGeometry, window: shapely.Polygon | None
    ) -> float | None:
        """The area of the zone inside area ``index`` (None: all of the zone); the overlay
        only where they cross, and without the general overlay where the zone is a convex
        ``window``.

        A large zone holds whole provinces, and a small one lies inside its region: both are
        answered by a (prepared) predicate and a precomputed or already known area.
        """
        area_m2, area = self._area_m2[index], self._geometries[index]
        if shapely.covers(zone, area):
            return area_m2
        if shapely.covers(area, zone):
            return None
        clipped = clipped_rings(self._clip_rings[index], window) if window is not None else None
        if clipped is not None:
            return rings_area_m2(clipped.points, clipped.offsets, clipped.is_hole)
        return geodesic_area_m2(shapely.intersection(area, zone))

    @cached_property
    def _clip_rings(self) -> tuple[ClipRings, ...]:
        """Each area's rings as arrays, for clipping them to a convex zone (read once)."""
        return tuple(ClipRings.of(a.geometry) for a in self._areas)

    @cached_property
    def _area_m2(self) -> tuple[float, ...]:
        return tuple(geodesic_area_m2(g) for g in self._geometries)


# --- loading --------------------------------------------------------------------------------


def _read_features(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    features: list[dict[str, Any]] = document["features"]
    return features


def _areas(path: Path, kind: AreaKind) -> tuple[AdminArea, ...]:
    return tuple(
        AdminArea(
            code=f["properties"]["code"],
            kind=kind,
            name_fr=f["properties"]["fr"],
            name_ar=f["properties"]["ar"],
            geometry=shape(f["geometry"]),
            region=f["properties"].get("region"),
        )
        for f in _read_features(path)
    )


@cache
def load_territory(
    regions: Path,
    provinces: Path | None = None,
    foreign_land: Path | None = None,
    allowed_areas: Path | None = None,
) -> Territory:
    """Load the shipped GeoJSON once per set of paths (cached: the files never change).

    ``allowed_areas`` must have been drawn from the same boundaries (the data build writes
    them together); without it they are drawn at first use."""
    foreign: BaseGeometry = shapely.Polygon()
    if foreign_land is not None:
        foreign = shapely.union_all([shape(f["geometry"]) for f in _read_features(foreign_land)])
    areas = _areas(regions, "region")
    if not foreign.is_empty:
        # The file was cut by the territory at build time, but rounding its coordinates to
        # the file's precision can leave metre-wide overlaps; cutting again makes the three
        # surfaces a strict partition.
        national = shapely.coverage_union_all([a.geometry for a in areas])
        foreign = shapely.difference(foreign, national)
    return Territory(
        regions=areas,
        provinces=_areas(provinces, "province") if provinces is not None else (),
        foreign_land=foreign,
        precomputed_allowed=(
            layers_from_document(json.loads(allowed_areas.read_text(encoding="utf-8")))
            if allowed_areas is not None
            else ()
        ),
    )


DATA_DIR = Path(__file__).parent / "data"
ALLOWED_AREAS_FILE = "allowed_areas.geojson"


def default_paths() -> tuple[Path, Path, Path, Path]:
    """The Morocco files shipped in ``alert_engine/data``: the default setting's value."""
    return (
        DATA_DIR / "morocco_regions.geojson",
        DATA_DIR / "morocco_provinces.geojson",
        DATA_DIR / "foreign_land.geojson",
        DATA_DIR / ALLOWED_AREAS_FILE,
    )
