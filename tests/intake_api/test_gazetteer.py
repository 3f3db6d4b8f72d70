from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake_api.gazetteer import (
    PLACES_FILE,
    REGIONS,
    AmbiguousPlace,
    Gazetteer,
    Place,
    UnknownPlace,
    build_gazetteer,
    designated,
    load_gazetteer,
    normalise,
)
from shared.alert_contract import Language

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def test_the_shipped_file_alone_is_enough() -> None:
    assert load_gazetteer() is load_gazetteer(PLACES_FILE)  # loaded once per process
    records = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    assert {r["region"] for r in records} == set(REGIONS)


def test_region_table_matches_the_boundary_data() -> None:
    # The static table must name the regions as the alert engine's boundary file does (read
    # here as a file: the intake service itself never touches the alert engine's data).
    regions = REPO / "alert_engine" / "data" / "morocco_regions.geojson"
    features = json.loads(regions.read_text(encoding="utf-8"))["features"]
    shipped = {p["code"]: (p["fr"], p["ar"]) for p in (f["properties"] for f in features)}
    assert shipped == {code: (r.fr, r.ar) for code, r in REGIONS.items()}


@pytest.mark.parametrize("name", ["Laayoune", "Laâyoune", "LAÂYOUNE", "العيون", "El Aaiún"])
def test_laayoune_spellings(gazetteer: Gazetteer, name: str) -> None:
    place = gazetteer.lookup(name)
    # GeoNames files it under EH; the region comes from the polygons.
    assert place.region == "MA-11"
    assert place.lat == pytest.approx(27.15, abs=0.05)
    assert place.lon == pytest.approx(-13.20, abs=0.05)


@pytest.mark.parametrize("name", ["Casablanca", "الدار البيضاء", "Dar el Beida", "dar-el-beida"])
def test_casablanca_spellings(gazetteer: Gazetteer, name: str) -> None:
    place = gazetteer.lookup(name)
    assert place.region == "MA-06"
    assert place.population > 3_000_000


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("Tanger", "MA-01"),
        ("Tangier", "MA-01"),
        ("طنجة", "MA-01"),
        ("Oujda", "MA-02"),
        ("Figuig", "MA-02"),
        ("Kénitra", "MA-04"),
        ("Kenitra", "MA-04"),
        ("Ouarzazate", "MA-08"),
    ],
)
def test_towns_map_to_their_region(gazetteer: Gazetteer, name: str, region: str) -> None:
    assert gazetteer.lookup(name).region == region


def test_unknown_place_lists_close_candidates(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownPlace) as error:
        gazetteer.lookup("Casablnca")
    assert "Casablanca" in error.value.candidates
    with pytest.raises(UnknownPlace) as nothing:
        gazetteer.lookup("Atlantis")
    assert nothing.value.candidates == []


def test_dakhla_is_ambiguous_with_regions_named(gazetteer: Gazetteer) -> None:
    # Dakhla the city (Dakhla-Oued Ed-Dahab) and a Dakhla near Agadir (Souss-Massa).
    with pytest.raises(AmbiguousPlace) as error:
        gazetteer.lookup("Dakhla")
    assert {p.region for p in error.value.candidates} >= {"MA-12", "MA-09"}
    assert "Dakhla-Oued Ed-Dahab" in str(error.value)
    assert "Souss-Massa" in str(error.value)


def test_a_city_wins_a_name_shared_with_a_hamlet() -> None:
    records = [
        {
            "id": 1,
            "name": "Safi",
            "lat": 32.3,
            "lon": -9.2,
            "population": 300_000,
            "region": "MA-07",
            "names": ["آسفي"],
        },
        {
            "id": 2,
            "name": "Safi",
            "lat": 30.0,
            "lon": -8.0,
            "population": 900,
            "region": "MA-09",
            "names": [],
        },
        {
            "id": 3,
            "name": "Twin",
            "lat": 31.0,
            "lon": -7.0,
            "population": 5000,
            "region": "MA-07",
            "names": [],
        },
        {
            "id": 4,
            "name": "Twin",
            "lat": 33.0,
            "lon": -5.0,
            "population": 4000,
            "region": "MA-03",
            "names": [],
        },
    ]
    small = build_gazetteer(records, {"MA-07": "Marrakech-Safi", "MA-03": "Fès-Meknès"})
    assert small.lookup("safi").id == 1
    assert small.lookup("اسفي").id == 1  # hamza on alif ignored
    with pytest.raises(AmbiguousPlace, match=r"Marrakech-Safi.*Fès-Meknès"):
        small.lookup("twin")


def test_normalise_folds_case_diacritics_and_arabic_marks() -> None:
    assert normalise("Laâyoune") == normalise("LAAYOUNE")
    assert normalise("Dar-el-Beïda") == normalise("dar el beida")
    assert normalise("مَرَّاكُش") == normalise("مراكش")
    # Direction marks a form or a keyboard adds around a name in another script.
    assert normalise("Casablanca\u200e") == normalise("Casablanca")
    assert normalise("\u200fFès\u200f") == normalise("Fes")
    assert normalise("\u061cمراكش") == normalise("مراكش")


def test_a_place_s_own_name_is_never_ambiguous(gazetteer: Gazetteer) -> None:
    # GeoNames lists "Khenifra" among Kénitra's alternate names too; Khénifra is the place
    # named so, and Kénitra is not 10 times larger, so only the own-name rule decides.
    khenifra, kenitra = gazetteer.lookup("Khénifra"), gazetteer.lookup("Kénitra")
    assert khenifra.id != kenitra.id and kenitra.population < 10 * khenifra.population
    assert gazetteer.lookup("Khenifra") == gazetteer.lookup("خنيفرة") == khenifra
    assert gazetteer.lookup("Kenitra") == kenitra


def test_a_name_in_arabic_asks_where_the_latin_name_asks(gazetteer: Gazetteer) -> None:
    # Two Ifranes of similar size, only the one near Fès with an Arabic name in the data:
    # "إفران" asks which, as "Ifrane" does, rather than send the other's alert to Fès.
    latin = {p.id for p in _asked(gazetteer, "Ifrane")}
    assert len(latin) == 2
    assert {p.id for p in _asked(gazetteer, "إفران")} == latin
    assert {p.id for p in _asked(gazetteer, "ⵉⴼⵔⴰⵏ")} == latin  # both have it: asked before too
    # Its region picks either, the one without an Arabic name too.
    assert gazetteer.lookup("إفران (MA-05)").region == "MA-05"
    assert gazetteer.lookup("إفران (بني ملال-خنيفرة)").region == "MA-05"  # as the console lists it
    assert gazetteer.lookup("إفران، فاس-مكناس").region == "MA-03"


def _asked(gazetteer: Gazetteer, name: str) -> list[Place]:
    with pytest.raises(AmbiguousPlace) as ambiguous:
        gazetteer.lookup(name)
    return ambiguous.value.candidates


def test_a_namesake_with_its_own_name_in_the_script_is_not_asked_about() -> None:
    def town(i: int, region: str, population: int, **names: str) -> dict[str, object]:
        return dict(
            id=i,
            name="Twin",
            lat=31.0 + i,
            lon=-7.0,
            population=population,
            region=region,
            names=[],
            **names,
        )

    regions = {"MA-07": "Marrakech-Safi", "MA-03": "Fès-Meknès", "MA-09": "Souss-Massa"}
    unnamed = build_gazetteer([town(1, "MA-07", 5000, ar="توين"), town(2, "MA-03", 4000)], regions)
    assert {p.id for p in _asked(unnamed, "توين")} == {1, 2}
    assert unnamed.lookup("توين (MA-03)").id == 2
    # Named otherwise in Arabic: "توين" is known not to be its name.
    named = build_gazetteer(
        [town(1, "MA-07", 5000, ar="توين"), town(2, "MA-03", 4000, ar="توين الصغرى")], regions
    )
    assert named.lookup("توين").id == 1
    # A hamlet beside a city: the Latin name finds the city, and so does the Arabic.
    hamlet = build_gazetteer([town(1, "MA-07", 50_000, ar="توين"), town(2, "MA-09", 90)], regions)
    assert hamlet.lookup("Twin").id == hamlet.lookup("توين").id == 1
    assert hamlet.lookup("توين (MA-09)").id == 2


def _names(gazetteer: Gazetteer, typed: str) -> dict[Language, str]:
    place = designated(gazetteer, typed)
    assert place is not None, typed
    return gazetteer.names_in_languages(place, typed)


@pytest.mark.parametrize(
    ("typed", "ar", "fr"),
    [
        ("Tanger", "طنجة", "Tanger"),
        ("Laâyoune", "العيون", "Laâyoune"),
        ("الدار البيضاء", "الدار البيضاء", "Casablanca"),
        ("Rabat", "الرباط", "Rabat"),
    ],
)
def test_each_language_gets_the_place_s_name_in_its_script(
    gazetteer: Gazetteer, typed: str, ar: str, fr: str
) -> None:
    names = _names(gazetteer, typed)
    assert names["ar"] == ar and names["fr"] == names["en"] == fr
    assert set(names) == {"ar", "fr", "zgh", "en"}


def test_typed_arabic_gives_a_latin_name_to_the_other_languages(gazetteer: Gazetteer) -> None:
    names = _names(gazetteer, "مراكش")
    assert names["ar"] == "مراكش"
    for language in ("fr", "en"):
        assert names[language].isascii() and "arrak" in names[language]
    assert all("\u2d30" <= c <= "\u2d7f" for c in names["zgh"] if c.isalpha())  # ⴰⵎⵓⵔⴰⴽⵓⵛ


def test_chosen_names_are_in_their_own_script(gazetteer: Gazetteer) -> None:
    arabic = [p.ar for p in gazetteer.places if p.ar]
    assert len(arabic) >= 70
    assert all(all("\u0600" <= c <= "\u06ff" for c in a if c.isalpha()) for a in arabic)
    assert not any(set(a) & set("یکگپچہ") for a in arabic)  # no Persian or Urdu letters
    tifinagh = [p.zgh for p in gazetteer.places if p.zgh]
    assert tifinagh
    assert all(all("\u2d30" <= c <= "\u2d7f" for c in t if c.isalpha()) for t in tifinagh)


def test_an_unknown_or_ambiguous_name_designates_no_place(gazetteer: Gazetteer) -> None:
    assert designated(gazetteer, "Nowhere-sur-Mer") is None
    assert designated(gazetteer, "Dakhla") is None


def test_only_spellings_of_places_are_known(gazetteer: Gazetteer) -> None:
    # What an approval's names are looked up with: a neighbourhood beside a point is not a
    # place (and is not worth a search for close spellings), a city in either script is.
    assert gazetteer.knows("Marrakech") and gazetteer.knows("مراكش") and gazetteer.knows("fes")
    assert not gazetteer.knows("Casablanca, Maarif")
    assert not gazetteer.knows("") and not gazetteer.knows(" - ")  # no place is spelt blank
    records = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    assert all(n.strip() for r in records for n in r["names"])


def test_most_places_ship_official_french_and_arabic_names() -> None:
    records = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    named = [r for r in records if "ar" in r]
    assert len(named) >= 0.8 * len(records)
    for r in named:
        spellings = r["names"] + r.get("spelt_like", [])
        # Findable by them (a name OpenStreetMap gave is found by the place's own names).
        assert r["ar"] in spellings or "osm_node" in r
        assert "fr" not in r or r["fr"] in spellings
        assert all("\u0600" <= c <= "\u06ff" for c in r["ar"] if c.isalpha())


def test_every_official_name_finds_its_place_at_least_with_its_region(
    gazetteer: Gazetteer,
) -> None:
    # Two records of one town given one commune's names would make them ambiguous even
    # within the region; namesakes in other regions (Dakhla, Ajdir) are told apart by it.
    official = [(p, n) for p in gazetteer.places for n in (p.fr, p.ar) if n]
    assert len(official) > 780
    for place, name in official:
        assert gazetteer.lookup(f"{name} ({place.region})") == place, name


def test_towns_spelt_otherwise_by_the_hcp_are_found_in_arabic(gazetteer: Gazetteer) -> None:
    # Two towns of tens of thousands whose GeoNames and HCP spellings differ.
    assert gazetteer.lookup("سوق السبت أولاد النمة").name == "Souq Sebt Oulad Nemma"
    assert gazetteer.lookup("بني انصار").name == "Beni Enzar"


@pytest.mark.parametrize(
    ("typed", "first"),
    [("Casa", "Casablanca"), ("Sidi Ka", "Sidi Kacem"), ("الدار", "Casablanca")],
)
def test_a_beginning_suggests_the_largest_places_it_begins(
    gazetteer: Gazetteer, typed: str, first: str
) -> None:
    """An officer's abbreviation: the town meant comes first, not a village spelt alike 900 km
    away ("Casa" suggested only Assa)."""
    with pytest.raises(UnknownPlace) as unknown:
        gazetteer.lookup(typed)
    assert unknown.value.near[0].name == first
    assert len(unknown.value.near) <= 5
