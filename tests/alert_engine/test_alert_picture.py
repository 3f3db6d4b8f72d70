"""The pure parts of the alert map: safe texts, a true scale bar, and the zone rebuilt from a
stored version (or, when the settings changed, from its circles)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import shapely

from alert_engine.alert_picture import rebuild_zone, version_svg
from alert_engine.composer import area_of
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import pieces_at
from alert_engine.svg_map import Layer, km_per_pixel, svg_picture, xml_text
from alert_engine.territory import default_paths, load_territory
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import AlertMessage, Point
from shared.alert_example import ALERT_MESSAGE_EXAMPLE

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TANGER = TrustedLocation(
    point=Point(lat=35.7595, lon=-5.834),
    at=NOW - timedelta(hours=2.5),
    place="Tanger",
    heading_deg=90.0,
)


def test_texts_are_escaped_and_xml_legal() -> None:
    hostile = "A\x00\x1b<script>alert(\"x\")</script> & \ufffe'b'"
    assert (
        xml_text(hostile)
        == "A&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;b&#x27;"
    )
    picture = svg_picture(
        [Layer(hostile, shapely.box(0, 0, 1, 1), fill="#000000", key=hostile)],
        (-1.0, -1.0, 2.0, 2.0),
        title=hostile,
        notes=[hostile],
    )
    root = ET.fromstring(picture)
    assert not list(root.iter(f"{SVG}script"))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert texts.count("A<script>alert(\"x\")</script> & 'b'") == 3  # title, legend, note


@pytest.mark.parametrize("middle_lat", [0.0, 30.0, 60.0])
def test_the_scale_bar_is_true_at_the_middle_latitude(middle_lat: float) -> None:
    frame = (10.0, middle_lat - 1.0, 12.0, middle_lat + 1.0)
    # A degree of longitude on the WGS84 ellipsoid: 111.32 km × cos φ, near enough.
    expected = 2 * 111.32 * math.cos(math.radians(middle_lat)) / 800
    assert km_per_pixel(frame, 800) == pytest.approx(expected, rel=3e-3)
    root = ET.fromstring(svg_picture([], frame, title="t"))
    [bar] = [g for g in root.iter(f"{SVG}g") if g.attrib.get("id") == "scale-bar"]
    km, px = float(bar.attrib["data-km"]), float(bar.attrib["data-px"])
    assert px * km_per_pixel(frame, 800) == pytest.approx(km, rel=1e-3)
    # A fifth of the width at most, and not less than 2/5 of that (1, 2, 5 steps).
    assert 800 / 5 * 0.4 <= px <= 800 / 5


def _version(policy: ZonePolicy) -> tuple[AlertMessage, list[TrustedLocation]]:
    fes = TrustedLocation(
        point=Point(lat=34.0331, lon=-5.0003), at=NOW - timedelta(minutes=10), place="Fès"
    )
    locations = [TANGER, fes]
    area = area_of(pieces_at(locations, "vehicle", policy, NOW), "Fès", policy)
    message = AlertMessage.model_validate(ALERT_MESSAGE_EXAMPLE).model_copy(
        update={"area": area, "sent": NOW}
    )
    return message, locations


def test_the_zone_is_rebuilt_as_the_engine_computed_it() -> None:
    policy = ZonePolicy(territory=load_territory(*default_paths()))
    message, locations = _version(policy)
    zone = rebuild_zone(message, locations, "vehicle", policy, NOW)
    assert not zone.from_circles
    assert [p.is_disk for p in zone.pieces] == [True, False]  # Fès, then Tanger's corridor
    assert zone.locations == (locations[1], locations[0])
    # The exact zone lies on the territory, and the sent polygon covers it.
    national = load_territory(*default_paths()).national
    assert shapely.covers(national.buffer(1e-6), zone.exact)
    sent = shapely.geometry.shape(message.area.geojson)
    assert shapely.covers(sent.buffer(1e-6), zone.exact)


def test_a_zone_from_other_settings_is_drawn_from_its_circles() -> None:
    territory = load_territory(*default_paths())
    message, locations = _version(ZonePolicy(territory=territory))
    changed = ZonePolicy(territory=territory, floor_km=100.0)
    zone = rebuild_zone(message, locations, "vehicle", changed, NOW)
    assert zone.from_circles
    assert all(p.is_disk for p in zone.pieces)
    assert [round(p.side_km, 3) for p in zone.pieces] == [c.radius_km for c in message.area.circles]
    picture = version_svg(message, zone, None)
    assert "drawn from the circles" in picture
    ET.fromstring(picture)
