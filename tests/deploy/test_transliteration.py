from __future__ import annotations

import pytest

from deploy.geodata.transliteration import skeletons, spelt_out


def letters(name: str) -> set[str]:
    return {s.letters for s in skeletons(name).whole}


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
        ("Sidi Yahia az Za'er", "Sidi Yahya Zaer"),  # an apostrophe inside a word
        ("Sid L'mokhtar", "Sidi Mokhtar"),  # and after an elided l
    ],
)
def test_one_name_in_two_conventions_shares_a_skeleton(one: str, other: str) -> None:
    assert letters(one) & letters(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Fes", "Fnideq"),
        ("Tiznit", "Taounate"),
        ("Khenifra", "Kenitra"),
        ("Ghabat", "Rabat"),  # غ is not ر
        ("Souk el Arba du Gharb", "Souk Tlet El Gharb"),  # two market days
    ],
)
def test_different_names_keep_different_skeletons(one: str, other: str) -> None:
    assert not letters(one) & letters(other)


@pytest.mark.parametrize(
    ("with_market", "without"),
    [("Had Beni Chiker", "Bni Chiker"), ("Souq Khmis Aït Yadine", "Ait Yadine")],
)
def test_a_leading_market_day_may_be_left_out(with_market: str, without: str) -> None:
    shorter = {s.letters for s in skeletons(with_market).without_market_day}
    assert letters(without) <= shorter
    assert not letters(without) & letters(with_market)  # only once it is left out


def test_a_market_day_alone_is_a_name() -> None:
    assert letters("Had") == {"d"} and not skeletons("Had").without_market_day


def test_common_first_words_are_not_counted_as_the_name_s_own() -> None:
    (oulad_ayad,) = skeletons("Oulad Ayad").whole  # Ayad writes ع, which Latin drops
    assert oulad_ayad.letters == "ld" and oulad_ayad.own == len("d")
    owned = {s.own for s in skeletons("Sidi Bou Othmane").whole}
    assert owned == {len("tmn")}


def test_a_name_of_no_letters_has_no_skeleton() -> None:
    empty = skeletons("’ - ’")
    assert not empty.whole and not empty.without_market_day


def test_an_abbreviated_title_is_spelt_out_and_nothing_else() -> None:
    assert spelt_out("My Idriss Zerhoun") == "Moulay Idriss Zerhoun"
    assert spelt_out("Mymouna") == "Mymouna"  # a word that begins so is no abbreviation
    assert spelt_out("Sid Zouine") == "Sid Zouine"
