from __future__ import annotations

import pytest

from intake_api.transliteration import skeletons, spelt_out


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Souq Sebt Oulad Nemma", "Souk Sebt Ouled Nemma"),  # q and k, a and e
        ("Zawyat ech Cheïkh", "Zaouiat Cheikh"),  # the article, y and w as vowels, ï
        ("Beni Yakhlef", "Bni Yakhlef"),
        ("Oulad Barhil", "Oulad Berhil"),
        ("Bni Tajjit", "Bni Tadjite"),  # dj and j, a doubled letter
        ("Imouzzer Kandar", "Immouzzer-Kandar"),  # a hyphen
        ("Talat-n-Ya’qoub", "Talat N'yaaqoub"),  # apostrophes
        ("Reçani", "Rissani"),  # ç
        ("Ghafsaï", "Rhafsai"),  # gh and the older French rh
        ("Bir Ghandouz", "Bir Gandouz"),  # gh as a g
        ("Moulay Driss Zerhoun", "My Idriss Zerhoun"),  # the HCP's abbreviation
    ],
)
def test_one_name_in_two_conventions_shares_a_skeleton(one: str, other: str) -> None:
    assert skeletons(one) & skeletons(other)


@pytest.mark.parametrize(
    ("with_market", "without"),
    [("Had Beni Chiker", "Bni Chiker"), ("Souq Khmis Aït Yadine", "Ait Yadine")],
)
def test_a_leading_market_day_may_be_left_out(with_market: str, without: str) -> None:
    assert skeletons(without) < skeletons(with_market)


def test_a_market_day_alone_is_a_name() -> None:
    assert skeletons("Had") == {"d"}


@pytest.mark.parametrize(
    ("one", "other"),
    [("Fes", "Fnideq"), ("Tiznit", "Taounate"), ("Khenifra", "Kenitra"), ("Azrou", "Zerhoun")],
)
def test_different_names_keep_different_skeletons(one: str, other: str) -> None:
    assert not skeletons(one) & skeletons(other)


def test_a_name_of_no_letters_has_no_skeleton() -> None:
    assert skeletons("’ - ’") == set()


def test_an_abbreviated_title_is_spelt_out_and_nothing_else() -> None:
    assert spelt_out("My Idriss Zerhoun") == "Moulay Idriss Zerhoun"
    assert spelt_out("Mymouna") == "Mymouna"  # a word that begins so is no abbreviation
    assert spelt_out("Sid Zouine") == "Sid Zouine"
