"""Zones around enclaves and borders, read back as a partner reads them: CAP and GeoJSON.

CAP polygons have no holes; a zone around Ceuta or Melilla must be sent as hole-free parts
whose union leaves the enclave out. Checked from the XML itself (every ``<polygon>`` parsed
back), against the GeoJSON of the same alert, and against the foreign land: the CAP area may
reach onto foreign land only as far as the alert says (``overshoot_land_m``), measured here
independently (a pyproj AEQD projection, densified edges, an exact zone built from a disk of
this test's own).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
import shapely.geometry
from pyproj import Geod

from alert_engine.cap import CAP_NS, to_cap_xml
from alert_engine.composer import CaseState, Presentation, area_of, compose
from alert_engine.footprint import vertex_count
from alert_engine.geodesy import geodesic_area_m2
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import disk_piece
from alert_engine.territory import default_paths, load_territory
from alert_engine.texts import CaseFacts
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import AlertMessage, Point, PublicChild
from tests.alert_engine.metric_view import metric_projection
from tests.alert_engine.surfaces import surface_at

TERRITORY = load_territory(*default_paths())
POLICY = ZonePolicy(territory=TERRITORY)
GEOD = Geod(ellps="WGS84")
NS = {"cap": CAP_NS}
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
# (lon, lat), read off OpenStreetMap by hand.
PLACES = {
    "Fnideq": (-5.3572, 35.8489),
    "Tetouan": (-5.3684, 35.5785),
    "Nador": (-2.9335, 35.1681),
    "Figuig": (-1.2286, 32.1093),
    "Oujda": (-1.9086, 34.6814),
    "Guerguerat": (-16.9453, 21.3769),
}
CEUTA = (-5.3167, 35.8894)  # the town centre
MELILLA = (-2.9381, 35.2923)


def _message(center: tuple[float, float], km: float) -> AlertMessage:
    point = Point(lon=center[0], lat=center[1])
    facts = CaseFacts(
        child=PublicChild(given_name="Amina", age=9, sex="female", description="Veste rouge"),
        place=None,
        last_seen=AT,
        suspected_vehicle=None,
        companion=None,
    )
    case = CaseState(
        alert_id="a1",
        report_id="r1",
        message_status="Exercise",
        facts=facts,
        photo_urls=[],
        locations=(TrustedLocation(point=point, at=AT),),
        travel_mode="vehicle",
        effective=AT,
        expires=AT + timedelta(hours=24),
    )
    return compose(
        case,
        area=area_of([disk_piece(point, km)], None, POLICY),
        sequence=1,
        msg_type="Alert",
        references=[],
        sent=AT,
        presentation=Presentation(sender="tifli@police.ma", timezone="Africa/Casablanca"),
    )


def _cap_polygons(message: AlertMessage) -> list[shapely.Polygon]:
    root = ET.fromstring(to_cap_xml(message))
    infos = root.findall("cap:info", NS)
    texts = [[p.text or "" for p in i.findall("cap:area/cap:polygon", NS)] for i in infos]
    assert all(t == texts[0] for t in texts)  # every language's area is the same
    # The area is the union of its polygons, circles and geocodes (CAP 1.2): a geocode would
    # add a whole region or province to the polygons.
    assert all(i.findall("cap:area/cap:geocode", NS) == [] for i in infos)
    assert all(i.findall("cap:area/cap:circle", NS) == [] for i in infos)
    polygons = []
    for text in texts[0]:
        pairs = [tuple(float(v) for v in pair.split(",")) for pair in text.split(" ")]
        assert pairs[0] == pairs[-1]  # closed, as CAP requires
        polygons.append(shapely.Polygon([(lon, lat) for lat, lon in pairs]))
    return polygons


def _inscribed_disk(center: tuple[float, float], km: float, n: int = 1440) -> shapely.Polygon:
    azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats, _ = GEOD.fwd(
        np.full(n, center[0]), np.full(n, center[1]), azimuths, np.full(n, km * 1000.0)
    )
    return shapely.Polygon(zip(lons, lats, strict=True))


def _farthest_m(
    lines: shapely.Geometry, zone: shapely.Geometry, center: tuple[float, float]
) -> float:
    """Greatest distance in metres from points along ``lines`` (outside ``zone``) to ``zone``:
    AEQD projection, edges densified, nearest segment of the zone's boundary."""
    if lines.is_empty:
        return 0.0
    project = metric_projection(center)

    rings = shapely.get_parts(project(shapely.boundary(zone)))
    coords, index = shapely.get_coordinates(rings, return_index=True)
    same = index[:-1] == index[1:]
    segments = shapely.linestrings(
        np.stack([coords[:-1][same], coords[1:][same]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(int(same.sum())), 2),
    )
    points = shapely.points(shapely.get_coordinates(project(lines)))
    _, distances = shapely.STRtree(segments).query_nearest(
        points, return_distance=True, all_matches=False
    )
    return float(np.max(distances))


@pytest.mark.parametrize("km", [20.0, 160.0])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_cap_area_is_the_geojson_area_and_leaves_foreign_land_out(place: str, km: float) -> None:
    center = PLACES[place]
    message = _message(center, km)
    area = message.area
    geojson = shapely.geometry.shape(area.geojson)
    parts = list(shapely.get_parts(geojson))
    cap = _cap_polygons(message)

    # Hole-free parts within the budget, one CAP polygon per GeoJSON part.
    assert 1 <= len(cap) == len(parts) <= POLICY.max_polygons
    for part in parts:
        assert not part.interiors and part.is_valid
        assert vertex_count(part) <= POLICY.vertex_budget
    assert all(p.is_valid and vertex_count(p) <= POLICY.vertex_budget for p in cap)
    assert area.vertex_count == sum(vertex_count(p) for p in parts)

    # The same region, to CAP's rounding (6 decimals: ~0.1 m along the boundary).
    cap_area = shapely.union_all(cap)
    geojson_area = shapely.union_all(parts)
    perimeter_m = GEOD.geometry_length(shapely.boundary(geojson_area))
    assert geodesic_area_m2(shapely.symmetric_difference(cap_area, geojson_area)) < (
        0.2 * perimeter_m
    )

    # It covers the zone (a disk inscribed in the geodesic one, clipped to the territory)...
    zone = shapely.intersection(_inscribed_disk(center, km), TERRITORY.national)
    assert geodesic_area_m2(shapely.difference(zone, cap_area)) < 1.0
    # ...and reaches onto foreign land no farther than the alert says.
    foreign = shapely.intersection(cap_area, TERRITORY.foreign_land)
    farthest = _farthest_m(shapely.boundary(foreign), zone, center)
    assert farthest <= area.overshoot_land_m + 5.0


@pytest.mark.parametrize(
    ("place", "enclave", "km"),
    [
        ("Fnideq", CEUTA, 20.0),
        ("Fnideq", CEUTA, 160.0),
        ("Tetouan", CEUTA, 160.0),
        ("Tetouan", CEUTA, 400.0),
        ("Nador", MELILLA, 30.0),
        ("Nador", MELILLA, 160.0),
    ],
)
def test_no_cap_polygon_alerts_the_enclave(
    place: str, enclave: tuple[float, float], km: float
) -> None:
    message = _message(PLACES[place], km)
    assert surface_at(TERRITORY, *enclave) == "foreign_land"
    assert not any(p.intersects(shapely.Point(enclave)) for p in _cap_polygons(message))
    # The enclave is well inside the disk: the cut, not the radius, leaves it out.
    _, _, distance = GEOD.inv(*PLACES[place], *enclave)
    assert distance < km * 1000 - 5000
