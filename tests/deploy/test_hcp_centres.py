from __future__ import annotations

import json
from typing import Any

import pytest

from deploy.geodata.build import hcp_centres
from deploy.geodata.hcp_centres import NAMED_BY_HAND, Centre, centre_names
from deploy.geodata.official_names import official_names
from intake_api.gazetteer import (
    PLACES_FILE,
    AmbiguousPlace,
    Gazetteer,
    Place,
    build_gazetteer,
    load_gazetteer,
)


def _record(label: str, arabic: str, region: str = "1.0") -> dict[str, Any]:
    # A source record as the package writes it (its outline left out: the step does not read it).
    return {"libelle_fr": label, "libelle_ar": arabic, "code_reg": region, "Data": [[], []]}


def _centre(label: str, arabic: str, region: str = "1.0") -> Centre:
    centre = Centre.of(_record(label, arabic, region))
    assert centre is not None
    return centre


def _place(place_id: int, name: str, names: list[str], **fields: Any) -> dict[str, Any]:
    return {"id": place_id, "name": name, "names": names, "region": "MA-01", **fields}


@pytest.mark.parametrize(
    ("label", "arabic", "names"),
    [
        ("Jebha (Centre)", "الجبهة المركز", ("Jebha", "الجبهة")),
        # Once written with doubled spaces and the word run in twice.
        (
            "Dar El Kebdani  (Centre)",
            "دار الكبداني  المركزمركز",
            ("Dar El Kebdani", "دار الكبداني"),
        ),
    ],
)
def test_a_centre_is_named_without_the_word_centre(
    label: str, arabic: str, names: tuple[str, str]
) -> None:
    centre = _centre(label, arabic)
    assert (centre.name_fr, centre.name_ar, centre.region) == (*names, "MA-01")


def test_a_commune_record_is_no_centre() -> None:
    assert Centre.of(_record("M'tioua", "امطيوة")) is None


def test_a_place_named_like_the_one_centre_of_its_region_gets_its_arabic_name() -> None:
    centres = [_centre("Jebha (Centre)", "الجبهة المركز")]
    places = [
        _place(1, "Jebha", ["El Jabha"]),
        _place(2, "Al Jabha", ["الجبهة"], region="MA-02"),  # another region: not that centre
    ]
    named, given = centre_names(places, centres)
    assert named[0] == {
        **places[0],
        "ar": "الجبهة",
        "spelt_like": ["Jebha", "الجبهة"],
        "hcp_centre": "Jebha (Centre)",
    }
    assert named[1] == places[1] and given == 1


def test_a_place_spelt_alike_or_called_a_village_of_the_name_gets_its_arabic_name() -> None:
    centres = [
        _centre("Kariat Arekmane (Centre)", "قرية اركمان المركز"),
        _centre("Sidi Bouafif (Centre)", "سيدي بوعفيف المركز"),
    ]
    places = [
        _place(1, "Kariat Arkmane", []),
        _place(2, "Douar Sidi Bouafif", []),
        _place(3, "Douar Sidi Bouaffif", [], region="MA-02"),  # spelt alike, too
    ]
    centres.append(_centre("Sidi Bouafif (Centre)", "سيدي بوعفيف المركز", "2.0"))
    named, _ = centre_names(places, centres)
    assert [p.get("ar") for p in named] == ["قرية اركمان", "سيدي بوعفيف", "سيدي بوعفيف"]


@pytest.mark.parametrize(
    ("places", "centres"),
    [
        # A commune's official name comes first.
        ([_place(1, "Jebha", [], ar="امطيوة")], [("Jebha (Centre)", "الجبهة المركز")]),
        # Two centres of the region named by its spellings: which one?
        (
            [_place(1, "Skoura", ["Skoura Ahl El Oust"])],
            [("Skoura (Centre)", "سكورة المركز"), ("Skoura Ahl El Oust (Centre)", "سكورة")],
        ),
        # Two records of one place (GeoNames has a few twice): neither takes it.
        (
            [_place(1, "Kantina", []), _place(2, "Kantina", ["Kantina II"])],
            [("Kantina (Centre)", "كانتينة المركز")],
        ),
        # Another place of the region has the name officially already.
        (
            [_place(1, "Karia", []), _place(2, "El Karia", [], ar="القرية")],
            [("Karia (Centre)", "القرية المركز")],
        ),
        # Another place (of another region) is named so: an Arabic name would settle which.
        (
            [_place(1, "Skoura", []), _place(2, "Skoura", [], region="MA-08", ar="سكورة الوسط")],
            [("Skoura (Centre)", "سكورة المركز")],
        ),
        # Too few consonants alike to tell ("Ksar" and "Kser" are every other village).
        ([_place(1, "Tighza", ["Kser"])], [("Ksar (Centre)", "القصر المركز")]),
    ],
)
def test_a_centre_not_surely_the_place_gives_nothing(
    places: list[dict[str, Any]], centres: list[tuple[str, str]]
) -> None:
    named, given = centre_names(places, [_centre(*c) for c in centres])
    assert given == 0
    assert [p.get("ar") for p in named] == [p.get("ar") for p in places]


def test_a_place_whose_namesakes_have_the_centres_name_already_gets_it() -> None:
    # "Ras el Ma" near Fès is a centre, "رأس الماء"; so is Ras Kebdana's commune, also called
    # "Ras el Ma": the name asks which, as the Latin one does.
    centres = [_centre("Ras El Mae (Centre)", "رأس الماء المركز", "3.0")]
    kebdana = _place(2, "Ras Kebdana", ["Ras el Ma"], region="MA-02", ar="رأس الماء")
    places = [_place(1, "Ras el Ma", [], region="MA-03"), kebdana]
    named, given = centre_names(places, centres)
    assert named[0]["ar"] == "رأس الماء" and named[1] == kebdana and given == 1
    # A namesake without that name (none, or another) keeps it from the place.
    for other in ({k: v for k, v in kebdana.items() if k != "ar"}, {**kebdana, "ar": "كبدانة"}):
        named, given = centre_names([places[0], other], centres)
        assert "ar" not in named[0] and given == 0


def test_a_centre_read_by_hand_as_the_place_gives_its_name() -> None:
    place_id, label = next(iter(NAMED_BY_HAND.items()))
    centres = [_centre(label, "سبت المعاريف المركز", "6.0")]
    place = _place(place_id, "Sebt El Maarif", [], region="MA-06")
    named, _ = centre_names([place], centres)
    assert named[0]["ar"] == "سبت المعاريف"
    named, _ = centre_names([{**place, "id": place_id + 1}], centres)
    assert "ar" not in named[0]


def test_names_given_are_drawn_afresh_when_the_build_runs_again() -> None:
    communes = [{"code": "01.1", "name_fr": "Tétouan", "name_ar": "تطوان", "region_code": "01"}]
    centres = [_centre("Jebha (Centre)", "الجبهة المركز")]
    places = [_place(1, "Jebha", []), _place(2, "Tetouan", [])]

    def build(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return centre_names(official_names(records, communes)[0], centres)[0]

    once = build(places)
    assert [p.get("ar") for p in once] == ["الجبهة", "تطوان"]
    assert build(once) == once
    # The centre gone from the source, its names go from the place too.
    assert "ar" not in centre_names(official_names(once, communes)[0], [])[0][0]


def test_the_shipped_places_carry_what_the_step_gives_from_the_source() -> None:
    shipped = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    given = {"ar", "spelt_like", "hcp_centre"}
    before = [
        {k: v for k, v in r.items() if "hcp_centre" not in r or k not in given} for r in shipped
    ]
    named, count = centre_names(before, hcp_centres())
    assert named == shipped
    assert count >= 38
    places = build_gazetteer(shipped, {}).places
    assert sum(1 for p in places if p.ar) / len(places) >= 0.95


def test_alerts_name_a_centre_in_arabic_and_find_it_by_that_name() -> None:
    gazetteer = load_gazetteer()
    place = gazetteer.lookup("Jebha")
    assert place.ar == "الجبهة"
    assert gazetteer.lookup("الجبهة") == place
    assert gazetteer.names_in_languages(place, "Jebha")["ar"] == "الجبهة"


def test_every_name_a_centre_gives_finds_its_place_alone_or_asks_among_its_namesakes() -> None:
    gazetteer = load_gazetteer()
    shipped = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    given = [(r, name) for r in shipped if "hcp_centre" in r for name in r["spelt_like"]]
    assert len(given) >= 2 * 38  # each centre's French and Arabic names
    wrong, asking = [], []
    for record, name in given:
        try:
            found = gazetteer.lookup(name).id
        except AmbiguousPlace as ambiguous:
            # Only where the place's Latin name asks too, and among the same places.
            latin = {p.id for p in _candidates(gazetteer, record["name"])}
            asking.append(name)
            if {p.id for p in ambiguous.candidates} != latin or record["id"] not in latin:
                wrong.append((record["id"], name))
            continue
        if found != record["id"]:
            wrong.append((record["id"], name))
    assert wrong == []
    assert asking == ["رأس الماء"]  # Ras el Ma near Fès, or Ras Kebdana


def _candidates(gazetteer: Gazetteer, name: str) -> list[Place]:
    try:
        return [gazetteer.lookup(name)]
    except AmbiguousPlace as ambiguous:
        return ambiguous.candidates
