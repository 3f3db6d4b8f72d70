from __future__ import annotations

import json
from typing import Any

import pytest

from deploy.geodata.build import osm_place_nodes
from deploy.geodata.osm_names import (
    NAMED_BY_HAND,
    NEAR_M,
    REFUSED_ARABIC,
    OsmPlace,
    is_standard_arabic,
    osm_names,
    split_by_script,
)
from intake_api.gazetteer import PLACES_FILE, load_gazetteer

# Timahdit, as GeoNames and OpenStreetMap put it (lon, lat).
TIMAHDIT = (-5.0595, 33.2365)
DEGREE_M = 111_000.0  # a degree of latitude, in metres (near enough for placing test nodes)


def _place(place_id: int, name: str, names: list[str], **fields: Any) -> dict[str, Any]:
    lon, lat = fields.pop("at", TIMAHDIT)
    region = fields.pop("region", "MA-03")
    return {
        "id": place_id,
        "name": name,
        "lon": lon,
        "lat": lat,
        "region": region,
        "population": 1000,
        "names": names,
        **fields,
    }


def _node(node: int, name: str, north_m: float = 200.0) -> OsmPlace:
    found = OsmPlace.of(node, TIMAHDIT[0], TIMAHDIT[1] + north_m / DEGREE_M, name)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("name", "split"),
    [
        (
            "Timahdite ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت",
            {"latin": "Timahdite", "tifinagh": "ⵜⵉⵎⵃⴹⵉⵜ", "arabic": "تيمحضيت"},
        ),
        # A direction mark after the Arabic (as editors leave it) is not part of the name.
        ("Oujda ⵡⵊⴷⴰ وجدة\u200e", {"latin": "Oujda", "tifinagh": "ⵡⵊⴷⴰ", "arabic": "وجدة"}),
        ("Aït M'Hamed", {"latin": "Aït M'Hamed"}),
        ("Ait ⴰⵢⵜ Ourir", None),  # which words are the Latin name?
        # A script with a sign among its letters is left out; the others are kept.
        ("Taouima ⵜⵉⵏ•ⴳⵎⴻⵔⵜ تاويمة", {"latin": "Taouima", "arabic": "تاويمة"}),
        ("Douissat (ruined) ⴷⵡⵉⵙⴰⵜ", {"tifinagh": "ⴷⵡⵉⵙⴰⵜ"}),
        ("Tassila-1 ⵟⴰⵙⵙⵉⵍⴰ-1 1-تاسيلا", None),  # no script left
        ("Tin-Gmert2", None),
        ("حي وريدة 2", None),  # a word of no letters
        # Arabic's own marks are part of its letters; its comma is not.
        ("Sidi Addi سيدي عدّي", {"latin": "Sidi Addi", "arabic": "سيدي عدّي"}),
        ("Foum Zguid فم زكيد، طاطا", {"latin": "Foum Zguid"}),
    ],
)
def test_a_name_is_split_by_script_only_when_it_splits_cleanly(
    name: str, split: dict[str, str] | None
) -> None:
    assert split_by_script(name) == split


def test_only_modern_standard_arabic_letters_make_an_alert_s_arabic_name() -> None:
    assert is_standard_arabic("سيدي عدّي") and is_standard_arabic("بئر لحلو")
    assert not is_standard_arabic("بيوگرى") and not is_standard_arabic("تيزڭين")


def test_a_node_that_names_a_place_nearby_gives_it_its_names() -> None:
    places = [
        _place(1, "Timahdit", ["Timhadit"]),  # no Arabic name: the node's is taken
        _place(2, "Timahdit", [], ar="تيمحضيت الرسمي", at=(-4.0, 33.2365)),  # official kept
    ]
    nodes = [
        _node(10, "Timahdite ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت"),  # spelt alike: the same consonants
        OsmPlace(11, -4.0, 33.2365, "Timahdit", "تيمحضيت", "ⵜⵉⵎⵃⴹⵉⵜ"),
    ]
    named, shares = osm_names(places, nodes)
    assert named[0] == {**places[0], "ar": "تيمحضيت", "zgh": "ⵜⵉⵎⵃⴹⵉⵜ", "osm_node": 10}
    assert named[1] == {**places[1], "zgh": "ⵜⵉⵎⵃⴹⵉⵜ", "osm_node": 11}
    assert (shares.arabic_before, shares.arabic, shares.tifinagh) == (0.5, 1.0, 1.0)
    assert shares.from_osm == 2


def test_a_node_confirmed_by_its_arabic_name_gives_its_tifinagh_one() -> None:
    place = _place(1, "Mehdya", ["Mehdiya", "المهدية"], ar="المهدية")
    (named,), _ = osm_names([place], [_node(10, "Mehdia ⵎⵀⴷⵉⵢⴰ المهدية")])
    assert named["zgh"] == "ⵎⵀⴷⵉⵢⴰ" and named["ar"] == "المهدية"


@pytest.mark.parametrize(
    ("name", "north_m"),
    [
        ("Massa ⵎⴰⵙⵙⴰ ماسة", 200.0),  # another place's name (Tassila's nearest village)
        ("Timahdite ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت", NEAR_M + 300.0),  # too far to be sure it is this one
        ("Timahdite", 200.0),  # nothing to give
    ],
)
def test_a_node_that_is_not_surely_the_place_gives_nothing(name: str, north_m: float) -> None:
    place = _place(1, "Timahdit", ["Timhadit"])
    named, shares = osm_names([place], [_node(10, name, north_m)])
    assert named == [place] and shares.from_osm == 0


def test_two_nearby_nodes_naming_a_place_differently_give_nothing() -> None:
    place = _place(1, "Timahdit", [])
    nodes = [_node(10, "Timahdit ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت"), _node(11, "Timahdit تمحضيت", 900.0)]
    assert osm_names([place], nodes)[0] == [place]


def test_a_node_gives_its_names_to_the_nearest_of_the_places_it_names() -> None:
    # Two GeoNames records of one town: both named so, the names would be ambiguous.
    near = _place(1, "Timahdit", [], at=(TIMAHDIT[0], TIMAHDIT[1] + 0.001))
    far = _place(2, "Timahdit", [], at=(TIMAHDIT[0], TIMAHDIT[1] - 0.01))
    named, _ = osm_names([far, near], [_node(10, "Timahdit ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت")])
    assert named[0] == far and named[1]["zgh"] == "ⵜⵉⵎⵃⴹⵉⵜ"


def test_an_arabic_name_official_for_another_place_of_the_region_is_not_given() -> None:
    # GeoNames lists some towns twice: the second record must not take the first's name.
    official = _place(1, "Timahdit", [], ar="تيمحضيت", at=(-5.2, 33.2365))
    twin = _place(2, "Timahdit", [])
    elsewhere = _place(3, "Timahdit", [], region="MA-05", at=(-4.0, 33.2365))
    nodes = [
        _node(10, "Timahdit ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت"),
        OsmPlace(11, -4.0, 33.2365, "Timahdit", "تيمحضيت", ""),
    ]
    named, _ = osm_names([official, twin, elsewhere], nodes)
    assert "ar" not in named[1] and named[1]["zgh"] == "ⵜⵉⵎⵃⴹⵉⵜ"
    assert named[2]["ar"] == "تيمحضيت"


def test_a_node_read_by_hand_as_naming_a_place_gives_it_its_names() -> None:
    # "El Kelâat Es-Sraghna" is El Kelaa des Srarhna, a consonant apart.
    place_id, node_id = next(iter(NAMED_BY_HAND.items()))
    node = "El Kelâat Es-Sraghna ⵍⵇⵍⵄⴰ ⵏ ⵙⵕⴰⵖⵏⴰ قلعة السراغنة"
    by_hand = _place(place_id, "El Kelaa des Srarhna", [])
    named, _ = osm_names([by_hand], [_node(node_id, node)])
    assert named[0]["ar"] == "قلعة السراغنة" and named[0]["osm_node"] == node_id
    another = _place(place_id + 1, "El Kelaa des Srarhna", [])  # the rules alone: no
    assert osm_names([another], [_node(node_id, node)])[0] == [another]


def test_arabic_outside_standard_letters_or_refused_by_hand_is_not_taken() -> None:
    persian = _place(1, "Biougra", [])
    refused = _place(next(iter(REFUSED_ARABIC)), "Khemis Sahel", [])
    named, _ = osm_names([persian], [_node(10, "Biougra ⴱⵢⵓⴳⵔⴰ بيوگرى")])
    assert "ar" not in named[0] and named[0]["zgh"] == "ⴱⵢⵓⴳⵔⴰ"
    named, _ = osm_names([refused], [_node(11, "Khemis Sahel ⵙⴰⵃⵍ الساحل")])
    assert "ar" not in named[0] and named[0]["zgh"] == "ⵙⴰⵃⵍ"


def test_the_shipped_places_carry_what_the_step_gives_from_the_shipped_source() -> None:
    # The build's input to the step, from the shipped file: without the step's own fields,
    # and without the Arabic names it gave (an official one is always a spelling too).
    shipped = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    before = []
    for record in shipped:
        place = {k: v for k, v in record.items() if k not in ("zgh", "osm_node")}
        spellings = place["names"] + place.get("spelt_like", [])
        if "osm_node" in record and "ar" in place and place["ar"] not in spellings:
            del place["ar"]
        before.append(place)
    named, shares = osm_names(before, osm_place_nodes())
    assert named == shipped
    assert shares.arabic > shares.arabic_before and shares.arabic >= 0.91
    assert shares.tifinagh >= 0.78


def test_alerts_name_a_place_in_tifinagh_and_find_it_by_the_names_given() -> None:
    gazetteer = load_gazetteer()
    place = gazetteer.lookup("Oualidia")
    assert (place.ar, place.zgh) == ("الوليدية", "ⵍⵡⴰⵍⵉⴷⵢⵢⴰ")
    assert gazetteer.lookup("الوليدية") == place and gazetteer.lookup("ⵍⵡⴰⵍⵉⴷⵢⵢⴰ") == place
    names = gazetteer.names_in_languages(place, "Oualidia")
    assert (names["ar"], names["zgh"]) == ("الوليدية", "ⵍⵡⴰⵍⵉⴷⵢⵢⴰ")
