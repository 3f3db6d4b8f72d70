"""The shipped territory, against facts checked by hand on a map (not copied from the code).

Disks are built here with pyproj.Geod directly, independent of alert_engine.geodesy.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import shapely
from pyproj import Geod

from alert_engine.geodesy import geodesic_area_m2
from alert_engine.territory import Territory, default_paths, load_territory
from tests.alert_engine.surfaces import surface_at

GEOD = Geod(ellps="WGS84")

# (lon, lat), read off OpenStreetMap by hand.
TANGER = (-5.7998, 35.7673)
OUJDA = (-1.9086, 34.6814)
RABAT = (-6.8326, 34.0133)
CASABLANCA = (-7.6114, 33.5883)
LAAYOUNE = (-13.2028, 27.1536)
CITIES = {
    "Tanger": TANGER,
    "Oujda": OUJDA,
    "Figuig": (-1.2286, 32.1089),
    "Laâyoune": LAAYOUNE,
    "Dakhla": (-15.9580, 23.6848),
    "Lagouira": (-17.0899, 20.8323),
}
CEUTA = (-5.3162, 35.8894)
MELILLA = (-2.9381, 35.2923)


@pytest.fixture(scope="module")
def territory() -> Territory:
    return load_territory(*default_paths())


def disk(center: tuple[float, float], km: float, n: int = 256) -> shapely.Polygon:
    azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats, _ = GEOD.fwd(
        np.full(n, center[0]), np.full(n, center[1]), azimuths, np.full(n, km * 1000.0)
    )
    return shapely.Polygon(zip(lons, lats, strict=True))


def inside(geometry: shapely.Geometry, point: tuple[float, float]) -> bool:
    return bool(shapely.intersects(geometry, shapely.Point(point)))


def test_twelve_regions_form_a_valid_coverage(territory: Territory) -> None:
    codes = [r.code for r in territory.regions]
    assert codes == [f"MA-{i:02d}" for i in range(1, 13)]
    geometries = [r.geometry for r in territory.regions]
    assert all(g.is_valid for g in geometries)
    assert shapely.coverage_is_valid(geometries)
    for a, b in itertools.combinations(geometries, 2):
        assert shapely.intersection(a, b).area < 1e-9
    assert all(r.name_ar and r.name_fr for r in territory.regions)


def test_provinces_nest_in_their_regions(territory: Territory) -> None:
    assert len(territory.provinces) == 75
    regions = {r.code: r.geometry for r in territory.regions}
    for province in territory.provinces:
        assert province.region in regions
        outside = shapely.difference(province.geometry, regions[province.region])
        assert outside.area < 1e-9, province.code


# Partners show these names (each geocode's share): the kind of area with its article, in
# French as the Arabic says it (عمالة, a prefecture; إقليم, a province).
_KINDS = {"Préfecture": "عمالة ", "Province": "إقليم "}
_WRITTEN = re.compile(r"(Préfecture|Province) (de |d')[A-ZÀ-Ý]")


def test_provinces_are_named_as_officially_written(territory: Territory) -> None:
    for province in territory.provinces:
        written = _WRITTEN.match(province.name_fr)
        assert written, province.name_fr
        assert province.name_ar.startswith(_KINDS[written[1]]), province.code


def test_national_area_is_morocco_with_its_southern_provinces(territory: Territory) -> None:
    # 446,550 km² north of 27°40' plus 266,000 km² south of it (the usual encyclopaedia
    # figures) = 712,550 km²; OSM's coastline gives a few percent less.
    km2 = geodesic_area_m2(territory.national) / 1e6
    assert 0.94 * 712_550 < km2 < 1.01 * 712_550


def test_union_contains_known_cities_and_excludes_ceuta_and_melilla(territory: Territory) -> None:
    for name, point in CITIES.items():
        assert inside(territory.national, point), name
        assert surface_at(territory, *point) == "territory", name
    for point in (CEUTA, MELILLA):
        assert not inside(territory.national, point)
        assert surface_at(territory, *point) == "foreign_land"


@pytest.mark.parametrize(
    ("name", "point", "surface"),
    [
        ("Tarifa, Spain", (-5.6044, 36.0143), "foreign_land"),
        ("Tlemcen, Algeria", (-1.3150, 34.8783), "foreign_land"),
        ("Nouadhibou, Mauritania", (-17.0347, 20.9310), "foreign_land"),
        ("Las Palmas, Canaries", (-15.4300, 28.1000), "foreign_land"),
        ("Atlantic off Casablanca", (-8.5000, 34.0000), "sea"),
        ("Alboran Sea", (-2.0000, 36.5000), "sea"),
    ],
)
def test_surface_around_morocco(
    territory: Territory, name: str, point: tuple[float, float], surface: str
) -> None:
    assert surface_at(territory, *point) == surface, name


def test_tangier_zone_stops_at_the_strait(territory: Territory) -> None:
    zone = disk(TANGER, 160.0)
    clipped = territory.clip(zone)
    spain = {"Ceuta": CEUTA, "Tarifa": (-5.6044, 36.0143), "Algeciras": (-5.4562, 36.1408)}
    for name, point in spain.items():
        assert inside(zone, point), name  # the disk reaches them (they are < 60 km away) …
        assert not inside(clipped, point), name  # … the clipped zone does not
    # Morocco's northernmost coast (Punta Cires) is at about 35.92°N; the disk reaches 37.2°N.
    assert zone.bounds[3] > 37.1
    assert clipped.bounds[3] < 35.95
    assert shapely.intersection(clipped, territory.foreign_land).area < 1e-12


def test_laayoune_zone_stays_in_the_territory(territory: Territory) -> None:
    zone = disk(LAAYOUNE, 160.0)
    clipped = territory.clip(zone)
    assert shapely.difference(clipped, territory.national).area < 1e-12
    assert inside(clipped, LAAYOUNE)
    assert inside(clipped, (-12.9260, 27.9395))  # Tarfaya, ~90 km north
    # Morro Jable, Fuerteventura (Spain), ~152 km away: in the disk, not in the zone.
    assert inside(zone, (-14.3500, 28.0500))
    assert not inside(clipped, (-14.3500, 28.0500))


def test_oujda_zone_stops_at_the_algerian_border(territory: Territory) -> None:
    zone = disk(OUJDA, 160.0)
    clipped = territory.clip(zone)
    # The border runs about 12 km east of Oujda, from Saïdia (2.05°W) south to ~1.8°W.
    algeria = {"Maghnia (~12 km east)": (-1.7300, 34.8500), "Tlemcen (~45 km east)": TLEMCEN}
    morocco = {"Ahfir (~8 km west)": (-2.1000, 34.9500), "Jerada": (-2.1600, 34.3100)}
    for name, point in algeria.items():
        assert inside(zone, point) and not inside(clipped, point), name
    for name, point in morocco.items():
        assert inside(clipped, point), name
    # Along 34.4°N the border is near 1.75°W: 30 km east of it is outside, 20 km west inside.
    east, _, _ = GEOD.fwd(-1.75, 34.4, 90.0, 30_000.0)
    west, _, _ = GEOD.fwd(-1.75, 34.4, 270.0, 20_000.0)
    assert not inside(clipped, (east, 34.4))
    assert inside(clipped, (west, 34.4))


TLEMCEN = (-1.3150, 34.8783)


def test_casablanca_10km_is_casablanca_settat_only(territory: Territory) -> None:
    codes = territory.geocodes(territory.clip(disk(CASABLANCA, 10.0)))
    regions = [g for g in codes if g.kind == "region"]
    assert [g.code for g in regions] == ["MA-06"]
    assert regions[0].share == pytest.approx(1.0, abs=1e-6)
    assert regions[0].names == {"ar": "الدار البيضاء-سطات", "fr": "Casablanca-Settat"}
    assert "MA-CAS" in {g.code for g in codes if g.kind == "province"}


def test_rabat_160km_touches_several_regions_and_shares_sum_to_one(territory: Territory) -> None:
    codes = territory.geocodes(territory.clip(disk(RABAT, 160.0)))
    regions = {g.code: g.share for g in codes if g.kind == "region"}
    # Rabat-Salé-Kénitra itself, Casablanca (~87 km), Meknès (~130 km) and Tanger-Tétouan
    # (Ksar el-Kébir is ~150 km) all lie within 160 km.
    assert {"MA-01", "MA-03", "MA-04", "MA-06"} <= regions.keys()
    assert sum(regions.values()) == pytest.approx(1.0, abs=1e-6)
    provinces = [g.share for g in codes if g.kind == "province"]
    assert sum(provinces) == pytest.approx(1.0, abs=1e-6)
    assert max(regions, key=regions.__getitem__) == "MA-04"


def test_geodesic_area_of_a_disk_is_pi_r_squared() -> None:
    # Checks the area measure itself: a 100 km disk has area π·100² = 31,416 km² (the
    # 256-gon is 0.01 % smaller; the ellipsoid's curvature changes it by less than 0.1 %).
    assert geodesic_area_m2(disk(RABAT, 100.0)) / 1e6 == pytest.approx(31_416, rel=2e-3)


def test_loader_is_cached() -> None:
    assert load_territory(*default_paths()) is load_territory(*default_paths())


@pytest.mark.parametrize(("center", "km"), [(RABAT, 160.0), (OUJDA, 300.0), (LAAYOUNE, 500.0)])
def test_shares_match_a_direct_overlay_of_each_area(
    territory: Territory, center: tuple[float, float], km: float
) -> None:
    # Regions are summed from their provinces, whole areas skip the overlay, and the overlays
    # may use the disk before clipping (as the engine does): check the shortcuts against the
    # plain computation, area by area, with pyproj's own area helper.
    unclipped = disk(center, km)
    zone = territory.clip(unclipped)
    total = abs(GEOD.geometry_area_perimeter(zone)[0])
    codes = territory.geocodes(zone)
    via_disk = territory.geocodes(zone, unclipped)
    # The disk is convex: each area is clipped to it by the compiled clip, not the overlay.
    via_clip = territory.geocodes(zone, unclipped, convex=True)
    for shortcut in (via_disk, via_clip):
        assert [c.code for c in shortcut] == [c.code for c in codes]
        assert [c.share for c in shortcut] == pytest.approx([c.share for c in codes], abs=1e-9)
    for code in codes:
        area = next(a for a in (*territory.regions, *territory.provinces) if a.code == code.code)
        direct = abs(GEOD.geometry_area_perimeter(shapely.intersection(area.geometry, zone))[0])
        assert code.share == pytest.approx(direct / total, abs=1e-6), code.code


def test_geodesic_area_subtracts_holes() -> None:
    outer, hole = disk(RABAT, 100.0), disk(RABAT, 50.0)
    ring = shapely.Polygon(outer.exterior.coords, [hole.exterior.coords])
    expected = geodesic_area_m2(outer) - geodesic_area_m2(hole)
    assert geodesic_area_m2(ring) == pytest.approx(expected, rel=1e-9)
    # pyproj's helper adds signed ring areas, so it needs the holes oriented against the shell.
    oriented = shapely.orient_polygons(ring)
    assert geodesic_area_m2(ring) == pytest.approx(abs(GEOD.geometry_area_perimeter(oriented)[0]))


def test_a_disk_is_shared_out_without_the_general_overlay(
    territory: Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine's zones are mostly one disk: each area it crosses is clipped by the compiled
    # convex clip. Were it to hand every area back, the overlay (refused here) would run.
    unclipped = disk(RABAT, 160.0)
    zone = territory.clip(unclipped)
    expected = territory.geocodes(zone, unclipped)

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the general overlay was used")

    monkeypatch.setattr(shapely, "intersection", refused)
    clipped = territory.geocodes(zone, unclipped, convex=True)
    assert [c.code for c in clipped] == [c.code for c in expected]
    assert [c.share for c in clipped] == pytest.approx([c.share for c in expected], abs=1e-9)
    areas = (*territory.regions, *territory.provinces)
    crossed = {a.code for a in areas if shapely.intersects(a.geometry, unclipped.exterior)}
    assert len(crossed) >= 4 and crossed <= {c.code for c in clipped}  # each was clipped
