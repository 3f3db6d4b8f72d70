"""The consonant skeleton of a Moroccan name written in Latin letters: pure, no I/O.

The same Arabic or Amazigh name reaches Latin script by several conventions (French, English,
Spanish, the HCP's own): "Souq Sebt Oulad Nemma" and "Souk Sebt Ouled Nemma", "Beni Enzar"
and "Bni Ansar", "Zawyat ech Cheïkh" and "Zaouiat Cheikh", "Ghafsaï" and "Rhafsai". They
differ in vowels, in q or k, in gh or rh, in doubled letters, in the article, in the h of
digraphs and in abbreviations (My for Moulay), and agree on the consonants of the name.
Only the data build uses this (``gazetteer.official_names``), to find the commune a place is
where no spelling matches exactly; lookups stay exact.
"""

from __future__ import annotations

import re
import unicodedata

# The article and the French particles, which one convention writes and another drops.
_PARTICLES = frozenset(
    {"al", "el", "ech", "ed", "en", "er", "es", "et", "ez", "l", "d", "de", "des", "du", "la", "le"}
)
# The weekly market a village is named after ("Had", Sunday; "Tnine", Monday…): the HCP
# writes it for some communes and not for others.
_MARKET_DAYS = frozenset(
    {
        "souk",
        "souq",
        "had",
        "tnine",
        "tlet",
        "tleta",
        "tlata",
        "arbaa",
        "larbaa",
        "arba",
        "larba",
        "khemis",
        "khmis",
        "jemaa",
        "jamaa",
        "jem",
        "sebt",
    }
)
# The HCP writes Moulay (a saint's title) as My.
_ABBREVIATIONS = {"my": "moulay"}
_ABBREVIATED = re.compile(r"\b(My)\b")
_NOT_LETTERS = re.compile(r"[^a-z]+")
_VOWELS_AND_H = re.compile(r"[aeiouyhw]")  # y and w write vowels too; h ends kh, ch, gh, th…
_DOUBLED = re.compile(r"(.)\1+")


def skeletons(name: str) -> set[str]:
    """The skeleton of ``name`` (its consonants, q as k, ç as s, gh as r, dj as j, doubles
    single, particles dropped, My as Moulay), and that of each shorter name left by dropping
    a leading market day."""
    # ç is an s (Reçani, Rissani): before the cedilla is taken off.
    decomposed = unicodedata.normalize("NFKD", name.casefold().replace("ç", "s"))
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = [
        _ABBREVIATIONS.get(w, w)
        for w in _NOT_LETTERS.sub(" ", letters).split()
        if w not in _PARTICLES
    ]
    found = _readings(words)
    while len(words) > 1 and words[0] in _MARKET_DAYS:
        words = words[1:]
        found |= _readings(words)
    found.discard("")
    return found


def spelt_out(name: str) -> str:
    """``name`` with its abbreviations written in full: "My Idriss Zerhoun" → "Moulay Idriss
    Zerhoun" (what an alert's reader expects)."""
    return _ABBREVIATED.sub(lambda m: _ABBREVIATIONS[m.group(1).casefold()].title(), name)


def _readings(words: list[str]) -> set[str]:
    joined = "".join(words).replace("q", "k").replace("dj", "j")
    # غ is gh in one convention and rh in the older French one (Ghafsaï, Rhafsai), and gh
    # writes a g too (Bir Ghandouz, Bir Gandouz): both readings.
    return {_consonants(joined.replace("gh", "r")), _consonants(joined)}


def _consonants(letters: str) -> str:
    return _DOUBLED.sub(r"\1", _VOWELS_AND_H.sub("", letters))
