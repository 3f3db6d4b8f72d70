from __future__ import annotations

from typing import Any

import pytest

from deploy.geodata.spelt_alike import CommunesByConsonants


def commune(code: str, fr: str, population: int | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "name_fr": fr,
        "name_ar": f"ar-{code}",
        "region_code": "04",
        "population_2014": population,
    }


COMMUNES = CommunesByConsonants.of(
    [
        commune("1", "Souk Sebt Ouled Nemma"),
        commune("2", "Bni Chiker"),
        commune("3", "Sidi Daoud"),
        commune("4", "Azemmour"),
        commune("5", "Zmamra"),
        commune("6", "Souk Tlet El Gharb"),
        commune("7", "Skourra"),
        commune("8", "Er-Rissani", population=5010),
        commune("9", "Bradia"),
        commune("10", "Ghmate"),
        commune("11", "Ouled Yaich"),
        commune("12", "Ouled Zid"),
    ]
)


def found(name: str, *names: str, population: int = 0, region: str = "MA-04") -> str | None:
    place = {"name": name, "names": list(names), "region": region, "population": population}
    match = COMMUNES.commune_of(place)
    return match["code"] if match else None


@pytest.mark.parametrize(
    ("place", "code"),
    [
        (("Souq Sebt Oulad Nemma",), "1"),  # q for k, a for e
        (("Had Beni Chiker",), "2"),  # the market day the commune's name leaves out
        (("Souq Al Had Bradya",), "9"),  # two of them, and three consonants of its own
        (("Aghmat",), "10"),  # three consonants, from the main name
        (("Tafilalt", "Souk Sebt des Oulad Nemaa"), "1"),  # four, from an alternate
    ],
)
def test_a_place_is_the_one_commune_spelt_alike(place: tuple[str, ...], code: str) -> None:
    assert found(*place) == code


@pytest.mark.parametrize(
    "place",
    [
        ("Sidi Addi", "Sidi Adi"),  # "sd", as Sidi Daoud: nothing of its own
        ("Oulad Yaïch",),  # "ldc": one consonant past "Oulad", too few to tell
        ("Tazrouk", "Oulad Zid"),  # an alternate's four, but two past "Oulad"
        ("Zemamra",),  # Azemmour and Zmamra alike: no guess
        ("Souk el Arba du Gharb",),  # another market day than Souk Tlet El Gharb's
        ("Toundoute", "Skoura"),  # three consonants, from an alternate spelling only
    ],
)
def test_no_commune_is_guessed(place: tuple[str, ...]) -> None:
    assert found(*place) is None


def test_a_town_far_larger_than_the_commune_is_not_it() -> None:
    # The town of Rissani is the urban commune Moulay Ali Cherif; Er-Rissani is the rural
    # one around it, a quarter of its size.
    assert found("Reçani", population=20469) is None
    assert found("Reçani", population=6000) == "8"


def test_only_communes_of_the_place_s_region_are_considered() -> None:
    assert found("Beni Chiker", region="MA-05") is None
