"""What the public texts call the place of a report or sighting (``places.public_place``): a
name each reader can tell from its namesakes, in the reader's language."""

from __future__ import annotations

import pytest

from intake_api.gazetteer import Gazetteer, designated, load_gazetteer
from intake_api.places import public_place
from shared.alert_contract import LANGUAGES, Point

IFRANE_AZILAL = Point(lat=31.7022, lon=-6.3494)
SIDI_RAHAL_CASABLANCA = Point(lat=33.4774, lon=-7.9364)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def test_every_name_a_text_gives_finds_the_place_it_names(gazetteer: Gazetteer) -> None:
    """Typed in any of its own spellings at its own point, each place is named in every
    language by a name that finds it, and no other: a namesake's gets its region after it.
    A name of its own that finds it alone is left as it is."""
    told = 0
    for place in gazetteer.places:
        point = Point(lat=place.lat, lon=place.lon)
        for typed in {n for n in (place.name, place.fr, place.ar, place.zgh) if n}:
            spelt, names = public_place(gazetteer, typed, point)
            assert spelt is not None and names is not None, typed
            # A language without a name of its own (Arabic, for a few places) gets the
            # spelling typed.
            assert set(names) | ({"ar"} if place.ar is None else set()) >= set(LANGUAGES)
            for language in LANGUAGES:
                name = names.get(language, spelt)
                assert designated(gazetteer, name) is place, (typed, language, name)
                if "(" in name:
                    told += 1
                    bare = name.split(" (")[0]
                    assert designated(gazetteer, bare) is not place, (typed, language, name)
    assert told > 0  # the namesakes of the data (two Ifranes, two Dakhlas, …) are there


def test_the_region_is_said_in_each_text_s_language(gazetteer: Gazetteer) -> None:
    spelt, names = public_place(gazetteer, "Ifrane", IFRANE_AZILAL)
    assert spelt == "Ifrane"
    assert names is not None
    assert names["fr"] == names["en"] == "Ifrane (Béni Mellal-Khénifra)"
    # No Arabic name in the data: the Latin one, with the region in Arabic.
    assert names["ar"] == "Ifrane (بني ملال-خنيفرة)"
    # Typed with its region's code, the texts say the region's name.
    spelt, names = public_place(gazetteer, "إفران (MA-05)", IFRANE_AZILAL)
    assert spelt == "إفران"
    assert names is not None and names["ar"] == "إفران (بني ملال-خنيفرة)"
    assert "MA-05" not in "".join(names.values())


def test_a_name_shared_by_towns_of_one_size_names_the_one_at_the_point(
    gazetteer: Gazetteer,
) -> None:
    """ "Sidi Rahal" asks between two towns of tens of thousands; beside the point of one of
    them, it is that one (it named the larger town nearby, Dar Bouazza)."""
    spelt, names = public_place(gazetteer, "Sidi Rahal", SIDI_RAHAL_CASABLANCA)
    assert spelt == "Sidi Rahal"
    assert names is not None
    assert names["fr"] == "Sidi Rahal (Casablanca-Settat)"
    assert names["ar"] == "سيدي رحال (الدار البيضاء-سطات)"


def test_a_town_known_by_its_name_alone_is_named_so(gazetteer: Gazetteer) -> None:
    spelt, names = public_place(gazetteer, "Rabat", Point(lat=34.0209, lon=-6.8416))
    assert (spelt, names) == (
        "Rabat",
        {"fr": "Rabat", "en": "Rabat", "zgh": "ⵔⴱⴰⵟ", "ar": "الرباط"},
    )
