from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.geodata.build import write_places
from deploy.geodata.official_names import NAMED_BY_HAND, official_names
from intake_api.gazetteer import PLACES_FILE, AmbiguousPlace, UnknownPlace, load_gazetteer


def test_official_names_come_from_the_one_commune_of_the_region_named_so() -> None:
    def commune(code: str, fr: str, ar: str, region: str) -> dict[str, object]:
        return {"code": code, "name_fr": fr, "name_ar": ar, "region_code": region}

    communes = [
        commune("05.301.01.01", "Khénifra", "خنيفرة", "05"),
        commune("04.281.01.01", "Kénitra", "القنيطرة", "04"),
        commune("09.001.01.01", "Aït Amira", "آيت اعميرة", "09"),
        commune("09.002.01.01", "Aït Amira", "آيت اعميرة", "09"),  # two of one name
    ]
    places = [
        {"name": "Khenifra", "names": ["Chenifra"], "region": "MA-05"},
        {"name": "Kenitra", "names": ["Khenifra"], "region": "MA-04"},  # not Khénifra's region
        {"name": "Ait Amira", "names": [], "region": "MA-09"},
        {"name": "Kenitra", "names": [], "region": "MA-06"},  # no commune of that region
    ]
    named, share = official_names(places, communes)
    assert [(p.get("fr"), p.get("ar")) for p in named] == [
        ("Khénifra", "خنيفرة"),
        ("Kénitra", "القنيطرة"),
        (None, None),
        (None, None),
    ]
    assert share == 0.5


def test_a_place_spelt_otherwise_gets_the_arabic_name_of_the_one_commune_spelt_alike() -> None:
    # (The consonant rules themselves: test_spelt_alike.py.)
    def commune(code: str, fr: str, ar: str) -> dict[str, object]:
        return {"code": code, "name_fr": fr, "name_ar": ar, "region_code": "04"}

    communes = [
        commune("04.1", "Souk Sebt Ouled Nemma", "سوق السبت أولاد النمة"),
        commune("04.6", "Bir Gandouz", "بئر كندوز"),
        commune("04.7", "Ghmate", "اغمات"),
        commune("04.8", "Sidi Ali", "سيدي علي"),
        commune("04.9", "Sidi Ali", "سيدي علي"),  # two of one name
        commune("04.10", "Tamessna", "تامسنا"),
        commune("04.11", "My Abdellah", "مولاي عبد الله"),
        commune("04.12", "Tazarine", "تازارين"),
        commune("04.13", "Tinejdad", "تنجداد"),
    ]

    def place(name: str, *names: str) -> dict[str, object]:
        return {"name": name, "names": list(names), "region": "MA-04"}

    places = [
        place("Souq Sebt Oulad Nemma"),  # q for k, a for e
        place("Bir Ganduz", "Bir Gandouz"),  # the commune by its spelling…
        place("Bir Ghandouz"),  # …so not this record of it too (its names would clash)
        place("Aghmat"),  # two records spelt alike (gh, rh): neither
        place("Arhmat"),
        place("Tamesna", "Sidi Ali"),  # two communes by a spelling: no guess, nor one alike
        place("Moulay Abdallah", "My Abdellah"),
        place("Ait Atta", "Tazarine", "Tinejdad"),  # two communes by its spellings…
        place("Tazzarine"),  # …so neither is this place's, spelt alike
    ]
    named, share = official_names(places, communes)
    by_name = {p["name"]: p for p in named}
    assert [by_name[n].get("ar") for n in ("Souq Sebt Oulad Nemma", "Bir Ganduz")] == [
        "سوق السبت أولاد النمة",
        "بئر كندوز",
    ]
    for unnamed in ("Bir Ghandouz", "Aghmat", "Arhmat", "Tamesna", "Ait Atta", "Tazzarine"):
        assert "ar" not in by_name[unnamed] and "spelt_like" not in by_name[unnamed], unnamed
    # Spelt alike: the Arabic name only; the French one is a spelling to find it by, kept
    # apart so that the build, run again, matches the same way (not on it).
    nemma = by_name["Souq Sebt Oulad Nemma"]
    assert "fr" not in nemma and nemma["names"] == []
    assert nemma["spelt_like"] == sorted(["Souk Sebt Ouled Nemma", "سوق السبت أولاد النمة"])
    assert official_names(named, communes) == (named, share)
    # Named by its spelling: both names, the French one spelt out for the alert's text.
    moulay = by_name["Moulay Abdallah"]
    assert (moulay["fr"], moulay["ar"]) == ("Moulay Abdellah", "مولاي عبد الله")
    assert "My Abdellah" in moulay["names"]
    assert share == 3 / 9


def test_a_place_read_by_hand_as_a_commune_gets_its_arabic_name() -> None:
    code = NAMED_BY_HAND[2565267]  # Mhamid: M'hamid El Ghizlane
    communes = [
        {
            "code": code,
            "name_fr": "M'hamid El Ghizlane",
            "name_ar": "امحاميد الغزلان",
            "region_code": "08",
        }
    ]
    mhamid = {"id": 2565267, "name": "Mhamid", "names": ["Mkhamid"], "region": "MA-08"}
    named, _ = official_names([mhamid, {**mhamid, "id": 1}], communes)
    assert named[0]["ar"] == "امحاميد الغزلان" and "fr" not in named[0]
    assert "ar" not in named[1]  # the same names, not read by hand: too short to tell
    assert official_names(named, communes)[0] == named


@pytest.mark.parametrize(
    ("typed", "name", "arabic"),
    [
        ("سكورة مداز", "Skoura", "سكورة-مداز"),
        ("Bab Berred", "Boureït", "باب برد"),
        ("بلفاع", "Bellaa", "بلفاع"),
        ("Ait Baha", "Souk El Arba Des Aït Baha", "آيت باها"),
        ("Jbel Lahbib", "Karia", "جبل لحبيب"),
    ],
)
def test_places_read_by_hand_are_named_by_their_commune_and_found_by_it(
    typed: str, name: str, arabic: str
) -> None:
    place = load_gazetteer().lookup(typed)
    assert (place.name, place.ar) == (name, arabic)


def test_skoura_still_asks_which_in_latin_and_is_not_settled_in_arabic() -> None:
    gazetteer = load_gazetteer()
    with pytest.raises(AmbiguousPlace):
        gazetteer.lookup("Skoura")  # near Boulemane, or the oasis near Ouarzazate
    with pytest.raises(UnknownPlace):
        gazetteer.lookup("سكورة")  # would settle which without asking


def test_the_shipped_places_are_what_the_names_steps_give_from_their_sources(
    tmp_path: Path,
) -> None:
    """The communes' names, the centres' and OpenStreetMap's, drawn again from the packages and
    the extract the build reads, give the shipped file byte for byte: a hand entry taken out,
    or a rule changed without the data built again, shows here."""
    write_places(tmp_path, json.loads(PLACES_FILE.read_text(encoding="utf-8")))
    assert (tmp_path / "morocco_places.json").read_bytes() == PLACES_FILE.read_bytes()
