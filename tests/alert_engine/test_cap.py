"""CAP 1.2 XML: valid against the OASIS schema, faithful to the alert, text unchanged."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import pytest
import shapely
import shapely.geometry
import xmlschema

from alert_engine.cap import CAP_NS, cap_datetime, to_cap_xml
from alert_engine.composer import CaseState, Presentation, area_of, compose, version_reference
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import disk_piece
from alert_engine.texts import CaseFacts, drill_marker
from shared.alert_contract import (
    AlertMessage,
    Area,
    Circle,
    GeocodeShare,
    InfoBlock,
    Language,
    MessageStatus,
    MsgType,
    Point,
    PublicChild,
)

SCHEMA_PATH = Path(__file__).parents[2] / "alert_engine" / "data" / "cap" / "CAP-v1.2.xsd"
SCHEMA = xmlschema.XMLSchema(SCHEMA_PATH)
NS = {"cap": CAP_NS}
SENDER = "tifli@police.ma"
CASABLANCA = Point(lat=33.5731, lon=-7.5898)
LAST_SEEN = datetime(2026, 11, 29, 13, 35, 12, 250_000, tzinfo=UTC)
APPROVED = datetime(2026, 11, 29, 14, 5, 0, 731_902, tzinfo=UTC)
PLACE = "الدار البيضاء، المعاريف — ⴰⵏⴼⴰ"
GEOCODES = ["MA-06", "MA-04"]
# What each block calls the event and a photo, in its own language (English: AMBER's name).
EVENTS = {
    "ar": "إنذار طفل مختفٍ",
    "fr": "Alerte enfant disparu",
    "zgh": "ⴰⵍⵖⵓ: ⴰⴼⵔⵓⵅ ⵉⵜⵜⵓⵙⵉⴳⵍⵏ",
    "en": "Child Abduction Emergency",
}
PHOTOS = {
    "ar": "صورة الطفل المختفي",
    "fr": "Photo de l'enfant disparu",
    "zgh": "ⵜⴰⵡⵍⴰⴼⵜ ⵏ ⵓⴼⵔⵓⵅ",
    "en": "Photo of the missing child",
}


def _case() -> CaseState:
    facts = CaseFacts(
        child=PublicChild(
            given_name="أمينة ⴰⵎⵉⵏⴰ",
            age=9,
            sex="female",
            description="شعر أسود قصير، عينان بنيتان — cheveux noirs courts",
            clothing="Veste rouge, jean bleu",
        ),
        place=PLACE,
        last_seen=LAST_SEEN,
        suspected_vehicle="Renault Kangoo grise",
        companion=None,
    )
    return CaseState(
        alert_id="0b7c2a9e-4f7d-4a3e-9a51-3f1d2c6b8e10",
        report_id="5e0c8f1a-2d4b-4c6e-8f7a-9b1c3d5e7f20",
        message_status="Actual",
        facts=facts,
        photo_urls=["https://photos.example.org/cases/amina.jpg", "https://cdn.example.org/p/42"],
        locations=(TrustedLocation(point=CASABLANCA, at=LAST_SEEN, place=PLACE),),
        travel_mode="vehicle",
        effective=APPROVED,
        expires=APPROVED + timedelta(hours=24),
    )


def _messages() -> dict[str, AlertMessage]:
    """An Alert, its Update and its Cancel, made by the real composer."""
    case = _case()
    presentation = Presentation(sender=SENDER, timezone="Africa/Casablanca")
    sent = [
        APPROVED,
        APPROVED + timedelta(hours=1, microseconds=417),
        APPROVED + timedelta(hours=2),
    ]
    out: dict[str, AlertMessage] = {}
    references: list[str] = []
    msg_types: tuple[MsgType, ...] = ("Alert", "Update", "Cancel")
    for sequence, (msg_type, at) in enumerate(zip(msg_types, sent, strict=True), 1):
        zone = [disk_piece(CASABLANCA, 160.0 + 40 * sequence)]
        message = compose(
            case,
            area=area_of(zone, case.facts.place),
            sequence=sequence,
            msg_type=msg_type,
            references=list(references),
            sent=at,
            presentation=presentation,
        )
        message = message.model_copy(
            update={"area": message.area.model_copy(update={"geocodes": GEOCODES})}
        )
        references.append(version_reference(SENDER, message.identifier, message.sent))
        out[msg_type] = message
    return out


MESSAGES = _messages()


def _parse(document: bytes) -> ET.Element:
    return ET.fromstring(document)


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, path
    assert found.text is not None, path
    return found.text


@pytest.mark.parametrize("msg_type", ["Alert", "Update", "Cancel"])
def test_valid_against_the_oasis_schema(msg_type: str) -> None:
    document = to_cap_xml(MESSAGES[msg_type])
    SCHEMA.validate(document.decode("utf-8"))
    root = _parse(document)
    assert root.tag == f"{{{CAP_NS}}}alert"
    assert _text(root, "cap:msgType") == msg_type
    assert _text(root, "cap:scope") == "Public"
    assert _text(root, "cap:status") == "Actual"
    assert _text(root, "cap:identifier") == MESSAGES[msg_type].identifier
    assert _text(root, "cap:incidents") == MESSAGES[msg_type].alert_id


def test_valid_with_circle_and_sender_name_too() -> None:
    document = to_cap_xml(MESSAGES["Alert"], sender_name="DGSN", include_circle=True)
    SCHEMA.validate(document.decode("utf-8"))
    area = _parse(document).find("cap:info/cap:area", NS)
    assert area is not None
    assert _text(area, "cap:circle") == "33.5731,-7.5898 200"
    assert _text(_parse(document), "cap:info/cap:senderName") == "DGSN"


def test_one_circle_per_trusted_location() -> None:
    """A zone that is a union sends each location's circle (each inside the zone)."""
    rabat = Circle(center=Point(lat=34.0209, lon=-6.8416), radius_km=160.0)
    base = MESSAGES["Alert"]
    area = base.area.model_copy(update={"circles": [base.area.circle, rabat]})
    document = to_cap_xml(base.model_copy(update={"area": area}), include_circle=True)
    SCHEMA.validate(document.decode("utf-8"))
    circles = [c.text for c in _parse(document).findall("cap:info[1]/cap:area/cap:circle", NS)]
    assert circles == ["33.5731,-7.5898 200", "34.0209,-6.8416 160"]


def test_circle_is_left_out_by_default() -> None:
    # An area is the union of its shapes: an unclipped circle would undo the clipping.
    assert _parse(to_cap_xml(MESSAGES["Alert"])).find(".//cap:circle", NS) is None


def test_schema_rejects_what_it_should() -> None:
    """The tests' validator is not a rubber stamp: misorder two elements and it fails."""
    root = _parse(to_cap_xml(MESSAGES["Alert"]))
    status, msg_type = root[3], root[4]
    root[3], root[4] = msg_type, status
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate(ET.tostring(root, encoding="unicode"))


@pytest.mark.parametrize("msg_type", ["Alert", "Cancel"])
def test_one_info_per_language_with_text_unchanged(msg_type: str) -> None:
    message = MESSAGES[msg_type]
    # Through bytes and a fresh parser: what a partner reads is what was composed.
    root = _parse(bytes(to_cap_xml(message)))
    infos = root.findall("cap:info", NS)
    assert [_text(i, "cap:language") for i in infos] == ["ar", "fr", "zgh", "en"]
    by_language: dict[str, InfoBlock] = {b.language: b for b in message.info}
    for info in infos:
        block = by_language[_text(info, "cap:language")]
        assert _text(info, "cap:headline") == block.headline
        assert _text(info, "cap:description") == block.description
        assert _text(info, "cap:instruction") == block.instruction
        parameters = {
            _text(p, "cap:valueName"): _text(p, "cap:value")
            for p in info.findall("cap:parameter", NS)
        }
        assert parameters == {"CMAMtext": block.short_text, "CMAMlongtext": block.description}
        assert _text(info, "cap:event") == EVENTS[block.language]
        assert _text(info, "cap:category") == "Rescue"
        assert _text(info, "cap:contact") == "19"
        assert _text(info, "cap:eventCode/cap:value") == "CAE"
    if msg_type == "Alert":
        ar = by_language["ar"]
        zgh = by_language["zgh"]
        assert "أمينة" in ar.description and "ⵏ ⵓⵙⴳⴳⵯⴰⵙ" in zgh.headline  # the texts are real
        assert PLACE in _text(infos[0], "cap:description")
        assert _text(infos[0], "cap:area/cap:areaDesc") == PLACE


def test_alert_fields() -> None:
    message = MESSAGES["Alert"]
    root = _parse(to_cap_xml(message))
    assert _text(root, "cap:sender") == SENDER
    assert _text(root, "cap:sent") == "2026-11-29T14:05:00-00:00"
    assert root.find("cap:references", NS) is None
    info = root.find("cap:info", NS)
    assert info is not None
    assert _text(info, "cap:responseType") == "Monitor"
    assert _text(info, "cap:urgency") == "Immediate"
    assert _text(info, "cap:severity") == "Severe"
    assert _text(info, "cap:certainty") == "Likely"
    assert _text(info, "cap:effective") == "2026-11-29T14:05:00-00:00"
    assert _text(info, "cap:expires") == "2026-11-30T14:05:00-00:00"
    for block in root.findall("cap:info", NS):
        photo = PHOTOS[_text(block, "cap:language")]
        resources = [
            (_text(r, "cap:resourceDesc"), _text(r, "cap:mimeType"), _text(r, "cap:uri"))
            for r in block.findall("cap:resource", NS)
        ]
        assert resources == [
            (photo, "image/jpeg", "https://photos.example.org/cases/amina.jpg"),
            (photo, "application/octet-stream", "https://cdn.example.org/p/42"),
        ]
    # Targeting the polygons: no geocode, which would add each region whole (CAP's union).
    assert info.findall("cap:area/cap:polygon", NS)
    assert info.findall("cap:area/cap:geocode", NS) == []


def test_cancel_says_all_clear_and_carries_no_photo() -> None:
    root = _parse(to_cap_xml(MESSAGES["Cancel"]))
    infos = root.findall("cap:info", NS)
    assert len(infos) == 4
    for info in infos:
        assert _text(info, "cap:responseType") == "AllClear"
        assert _text(info, "cap:urgency") == "Past"
        assert info.find("cap:resource", NS) is None
    # A Cancel stays valid while it may still be delivered (72 h by default): a consumer that
    # drops expired messages unread must not drop the take-down (it expired when sent).
    assert _text(root, "cap:sent") == "2026-11-29T16:05:00-00:00"
    assert {_text(i, "cap:expires") for i in infos} == {"2026-12-02T16:05:00-00:00"}


def _pairs(polygon: str) -> list[tuple[float, float]]:
    out = []
    for pair in polygon.split(" "):
        lat, lon = pair.split(",")
        out.append((float(lat), float(lon)))
    return out


@pytest.mark.parametrize("msg_type", ["Alert", "Update", "Cancel"])
def test_polygon_is_the_geojson_ring_in_lat_lon_order_and_closed(msg_type: str) -> None:
    message = MESSAGES[msg_type]
    [polygon] = _parse(to_cap_xml(message)).findall("cap:info[1]/cap:area/cap:polygon", NS)
    assert polygon.text is not None
    pairs = _pairs(polygon.text)
    ring = message.area.geojson["coordinates"][0]  # [lon, lat] positions
    assert len(pairs) == len(ring) == message.area.vertex_count + 1
    assert pairs[0] == pairs[-1]
    for (lat, lon), (glon, glat) in zip(pairs, ring, strict=True):
        assert lat == pytest.approx(glat, abs=5e-7)
        assert lon == pytest.approx(glon, abs=5e-7)
    # Casablanca is at 33.57 N, 7.59 W: a swapped pair would put latitudes near -7.
    assert all(30 < lat < 37 and -11 < lon < -4 for lat, lon in pairs)
    for pair in polygon.text.split(" "):
        assert all(len(part.partition(".")[2]) <= 6 for part in pair.split(","))


def _message_with(geojson: dict[str, Any], **changes: Any) -> AlertMessage:
    base = MESSAGES["Alert"]
    area = Area(
        description="Test",
        geojson=geojson,
        circle=Circle(center=CASABLANCA, radius_km=10.0),
        vertex_count=4,
        overshoot_land_m=0.0,
        overshoot_sea_m=0.0,
    )
    return base.model_copy(update={"area": area, **changes})


def test_open_ring_is_closed_and_holes_are_cut_not_dropped() -> None:
    square = [[-7.6, 33.5], [-7.5, 33.5], [-7.5, 33.6], [-7.6, 33.6]]  # not closed
    hole = [[-7.56, 33.54], [-7.54, 33.54], [-7.54, 33.56], [-7.56, 33.54]]
    other = [[-6.9, 34.0], [-6.8, 34.0], [-6.8, 34.1], [-6.9, 34.0]]
    geojson = {"type": "MultiPolygon", "coordinates": [[square, hole], [other]]}
    document = to_cap_xml(_message_with(geojson))
    SCHEMA.validate(document.decode("utf-8"))
    polygons = [p.text for p in _parse(document).findall("cap:info[1]/cap:area/cap:polygon", NS)]
    assert polygons[-1] == "34,-6.9 34,-6.8 34.1,-6.8 34,-6.9"  # a part without holes as is
    parsed = [
        shapely.Polygon([(lon, lat) for lat, lon in _pairs(text)]) for text in polygons if text
    ]
    assert len(parsed) == len(polygons) >= 3  # the holed square became two parts or more
    # A CAP consumer alerts the union of the polygons: the GeoJSON region, the hole left out.
    region = shapely.geometry.shape(geojson)
    cap_area = shapely.union_all(parsed)
    assert shapely.symmetric_difference(cap_area, region).area < 1e-12
    inside_hole = shapely.Point(-7.545, 33.545)
    assert region.is_valid and not region.contains(inside_hole)
    assert not any(p.contains(inside_hole) for p in parsed)
    assert all(p.is_valid for p in parsed)


def test_degenerate_or_unknown_geometry_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        to_cap_xml(
            _message_with({"type": "Polygon", "coordinates": [[[-7.6, 33.5], [-7.5, 33.5]]]})
        )
    with pytest.raises(ValueError, match="Polygon or MultiPolygon"):
        to_cap_xml(_message_with({"type": "Point", "coordinates": [-7.6, 33.5]}))


def test_references_name_each_earlier_message_as_it_was_sent() -> None:
    alert, update, cancel = (to_cap_xml(MESSAGES[t]) for t in ("Alert", "Update", "Cancel"))
    earlier = [
        (
            _text(_parse(d), "cap:sender"),
            _text(_parse(d), "cap:identifier"),
            _text(_parse(d), "cap:sent"),
        )
        for d in (alert, update)
    ]
    # CAP 1.2: whitespace-separated "sender,identifier,sent", with sent exactly as in <sent>.
    assert _text(_parse(update), "cap:references") == ",".join(earlier[0])
    assert _text(_parse(cancel), "cap:references") == " ".join(",".join(e) for e in earlier)
    assert earlier[1][2] == "2026-11-29T15:05:00-00:00"  # microseconds truncated on both sides
    # The contract's references carry the JSON's own time format (fractions, "Z"): re-rendered.
    assert MESSAGES["Cancel"].references[1].endswith("15:05:00.732319Z")


def test_cap_datetime() -> None:
    assert cap_datetime(datetime(2026, 11, 29, 14, 5, 0, 999_999, tzinfo=UTC)) == (
        "2026-11-29T14:05:00-00:00"
    )
    an_hour_east = timezone(timedelta(hours=1))
    assert cap_datetime(datetime(2026, 11, 29, 15, 5, tzinfo=an_hour_east)) == (
        "2026-11-29T15:05:00+01:00"
    )
    pacific = timezone(-timedelta(hours=7))
    assert (
        cap_datetime(datetime(2002, 5, 24, 16, 49, tzinfo=pacific)) == "2002-05-24T16:49:00-07:00"
    )
    newfoundland = timezone(-timedelta(hours=3, minutes=30))
    assert cap_datetime(datetime(2026, 1, 1, tzinfo=newfoundland)).endswith("-03:30")
    with pytest.raises(ValueError, match="naive"):
        cap_datetime(datetime(2026, 11, 29, 14, 5))


def test_times_in_another_offset_validate() -> None:
    plus_one = timezone(timedelta(hours=1))
    message = MESSAGES["Alert"].model_copy(
        update={"sent": APPROVED.astimezone(plus_one), "status": "Exercise"}
    )
    document = to_cap_xml(message)
    SCHEMA.validate(document.decode("utf-8"))
    assert _text(_parse(document), "cap:sent") == "2026-11-29T15:05:00+01:00"
    assert _text(_parse(document), "cap:status") == "Exercise"


def test_characters_xml_cannot_carry_are_dropped_not_fatal() -> None:
    block = MESSAGES["Alert"].info[0]
    dirty = block.model_copy(update={"headline": "طفل\x00 مختفي\x1b ⴰⴼⵔⵓⵅ\x7f"})
    message = MESSAGES["Alert"].model_copy(update={"info": [dirty]})
    document = to_cap_xml(message)
    SCHEMA.validate(document.decode("utf-8"))
    assert _text(_parse(document), "cap:info/cap:headline") == "طفل مختفي ⴰⴼⵔⵓⵅ\x7f"


def test_shipped_schema_is_the_oasis_one() -> None:
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    assert "Copyright OASIS Open 2010 All Rights Reserved" in text
    assert SCHEMA.target_namespace == CAP_NS
    assert (SCHEMA_PATH.parent / "README.md").is_file()


@pytest.mark.parametrize("status", ["Exercise", "Test"])
@pytest.mark.parametrize("msg_type", ["Alert", "Cancel"])
def test_a_drill_says_so_first_in_every_cap_text(status: MessageStatus, msg_type: MsgType) -> None:
    # Through the real composer: the case's status reaches every language's texts.
    message = compose(
        replace(_case(), message_status=status),
        area=area_of([disk_piece(CASABLANCA, 160.0)], PLACE),
        sequence=1,
        msg_type=msg_type,
        references=[],
        sent=APPROVED,
        presentation=Presentation(sender=SENDER, timezone="Africa/Casablanca"),
    )
    root = _parse(to_cap_xml(message))
    assert _text(root, "cap:status") == status
    for info in root.findall("cap:info", NS):
        marker = drill_marker(_text(info, "cap:language"), status)  # type: ignore[arg-type]
        assert marker is not None
        texts = [_text(info, "cap:headline"), _text(info, "cap:description")]
        texts += [_text(p, "cap:value") for p in info.findall("cap:parameter", NS)]
        assert all(text.startswith(f"{marker} ") for text in texts), texts


@pytest.mark.parametrize(
    ("place", "names", "expected"),
    [
        # The gazetteer's spellings, each in its language's block (French for English).
        (
            "الدار البيضاء",
            {"ar": "الدار البيضاء", "fr": "Casablanca", "en": "Casablanca"},
            {"ar": "الدار البيضاء", "fr": "Casablanca", "en": "Casablanca", "zgh": "الدار البيضاء"},
        ),
        # No place: the reach around the point, in words of each language.
        (
            None,
            {},
            {"fr": "160 km autour de 33.5731,-7.5898", "en": "160 km around 33.5731,-7.5898"},
        ),
    ],
)
def test_each_info_names_the_area_in_its_language(
    place: str | None, names: dict[Language, str], expected: dict[str, str]
) -> None:
    """A French block said "الدار البيضاء" when the officer typed Arabic, and an English
    phrase of coordinates in every language when no town was near."""
    area = area_of([disk_piece(CASABLANCA, 160.0)], place, place_names=names)
    message = compose(
        _case(),
        area=area,
        sequence=1,
        msg_type="Alert",
        references=[],
        sent=APPROVED,
        presentation=Presentation(sender=SENDER, timezone="Africa/Casablanca"),
    )
    root = _parse(to_cap_xml(message))
    said = {
        _text(info, "cap:language"): _text(info, "cap:area/cap:areaDesc")
        for info in root.findall("cap:info", NS)
    }
    for language, description in expected.items():
        assert said[language] == description, said
    if place is None:  # the coordinates isolated in the Arabic line, in their order
        assert said["ar"] == "160 كم حول \u206833.5731,-7.5898\u2069"


def _share(code: str, kind: Literal["region", "province"]) -> GeocodeShare:
    return GeocodeShare(code=code, kind=kind, name_ar="ا", name_fr="A", share=0.5)


def test_an_area_targeted_by_geocodes_names_its_provinces_and_no_polygon() -> None:
    """The polygons reach land beyond the 161 m rule: a CAP consumer, which alerts the union of
    an area's polygons and geocodes, gets the provinces the zone touches and nothing else
    (their regions would only add ground)."""
    alert = MESSAGES["Alert"]
    shares = [_share("MA-06", "region"), _share("MA-CAS", "province"), _share("MA-MOH", "province")]
    area = alert.area.model_copy(
        update={
            "targeting": "geocodes",
            "geocodes": [g.code for g in shares],
            "geocode_shares": shares,
        }
    )
    document = to_cap_xml(alert.model_copy(update={"area": area}))
    SCHEMA.validate(document.decode("utf-8"))
    for info in _parse(document).findall("cap:info", NS):
        assert info.findall("cap:area/cap:polygon", NS) == []
        geocodes = [
            (_text(g, "cap:valueName"), _text(g, "cap:value"))
            for g in info.findall("cap:area/cap:geocode", NS)
        ]
        assert geocodes == [("ISO3166-2", "MA-CAS"), ("ISO3166-2", "MA-MOH")]
