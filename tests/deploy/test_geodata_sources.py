"""The shipped boundaries and land layers against their sources, fetched afresh.

The sources are fetched as the build fetches them, never read from our own files:
morocco-map by ``npm pack`` (its files checked against the pinned sha256; the tarball is kept
in pytest's cache directory between runs) and OpenStreetMap's land polygons from the
roaring-landmask wheel (PyPI). Checked: the national boundary lies within 20 m of them both
ways, no sampled point the land mask calls land is in neither layer, and the territory takes
no land from a neighbour it meets by land.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.footprint import footprint_of
from alert_engine.geodesy import geodesic_area_m2
from alert_engine.pieces import disk_piece
from alert_engine.territory import (
    DATA_DIR,
    Territory,
    default_paths,
    load_territory,
)
from deploy.geodata.build import (
    ACCURACY_M,
    REACH_BOX,
    Proof,
    fetch_morocco_map,
    land_polygons,
    proof,
    valid_polygonal,
)
from deploy.geodata.coast import LAND_NEIGHBOURS
from deploy.geodata.topojson import decode_object
from shared.alert_contract import Point
from tests.alert_engine.surfaces import surface_at
from tests.alert_engine.test_footprint import SEVERAL, inscribed_disk


@pytest.fixture(scope="module")
def provinces_src(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[dict[str, Any], BaseGeometry]]:
    # With pytest's cache turned off (-p no:cacheprovider) the tarball is fetched again.
    cache = getattr(request.config, "cache", None)
    workdir = Path(cache.mkdir("morocco-map")) if cache else tmp_path_factory.mktemp("npm")
    documents = fetch_morocco_map(workdir)
    return decode_object(documents["provinces.json"], "provinces")


@pytest.fixture(scope="module")
def source_territory(
    provinces_src: list[tuple[dict[str, Any], BaseGeometry]],
) -> BaseGeometry:
    """The source's provinces as one territory: a second or so to union, once per module
    rather than once per test that compares with it."""
    return shapely.union_all([valid_polygonal(g) for _, g in provinces_src])


@pytest.fixture(scope="module")
def land() -> np.ndarray:
    return land_polygons(REACH_BOX)


@pytest.fixture(scope="module")
def found(provinces_src: list[tuple[dict[str, Any], BaseGeometry]], land: np.ndarray) -> Proof:
    return proof(DATA_DIR, land, provinces_src)


@pytest.fixture(scope="module")
def territory() -> Territory:
    return load_territory(*default_paths())


def test_national_boundary_is_within_20_m_of_its_source(found: Proof) -> None:
    assert found.shipped_to_source_m <= ACCURACY_M
    assert found.source_to_shipped_m <= ACCURACY_M


def test_no_land_mask_land_is_in_neither_layer(found: Proof) -> None:
    assert found.land_points > 1_000_000  # dense: a grid and both sides of every border
    assert found.uncovered == 0, found.examples


@pytest.mark.parametrize(
    ("name", "point", "surface"),
    [
        # (lon, lat) read off OpenStreetMap by hand: places that were "sea" before.
        ("Monte Hacho, Ceuta", (-5.2930, 35.8980), "foreign_land"),
        ("Nouadhibou peninsula, Mauritanian side", (-17.0400, 20.8500), "foreign_land"),
        ("Peñón de Vélez de la Gomera", (-4.3006, 35.1725), "foreign_land"),
        ("Île de Mogador, off Essaouira", (-9.7832, 31.5007), "territory"),
        ("Isla Isabel II, Chafarinas", (-2.4296, 35.1821), "foreign_land"),
    ],
)
def test_former_gaps_are_land(
    land: np.ndarray, territory: Territory, name: str, point: tuple[float, float], surface: str
) -> None:
    on_land = shapely.STRtree(land).query(shapely.Point(point), predicate="intersects")
    assert on_land.size, f"{name}: the land mask should call this land"
    assert surface_at(territory, *point) == surface, name


def test_territory_takes_no_land_from_a_neighbour_met_by_land(
    source_territory: BaseGeometry, land: np.ndarray, territory: Territory
) -> None:
    minx, miny, maxx, maxy = source_territory.bounds
    pieces = land[shapely.intersects(land, shapely.box(minx - 1, miny - 1, maxx + 1, maxy + 1))]
    outside = shapely.get_parts(shapely.difference(shapely.union_all(pieces), source_territory))
    for name, (lon, lat) in LAND_NEIGHBOURS.items():
        held = outside[shapely.intersects(outside, shapely.Point(lon, lat))]
        assert held.size == 1, name
        assert surface_at(territory, lon, lat) == "foreign_land", name
        # Only strips may overlap it: the files' rounding (≤ 0.8 m) along the border, and the
        # shore's 2 m growth where Moroccan shore meets the neighbour. Shrunk by 2.8 m, the
        # overlap is gone: the territory reaches nowhere further into a neighbour's land.
        taken = shapely.intersection(held[0], territory.national)
        assert shapely.buffer(taken, -2.5e-5).is_empty, name


@pytest.mark.parametrize("name", sorted(SEVERAL))
def test_a_zone_of_several_locations_covers_its_zone_on_the_source_borders(
    source_territory: BaseGeometry, territory: Territory, name: str
) -> None:
    """What is sent covers the zone cut from the source's territory, not only from the
    shipped copy (which the build keeps within 20 m of it): disks built here, with Geod."""
    locations = SEVERAL[name]
    pieces = [disk_piece(Point(lon=c[0], lat=c[1]), km).polygon for c, km in locations]
    sent = footprint_of(pieces, territory, 100)
    disks = shapely.union_all([inscribed_disk(c, km) for c, km in locations])
    missed = shapely.difference(shapely.intersection(disks, source_territory), sent.polygon)
    assert geodesic_area_m2(missed) < 1.0
