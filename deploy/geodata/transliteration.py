"""The consonant skeleton of a Moroccan name written in Latin letters: pure, no I/O.

The same Arabic or Amazigh name reaches Latin script by several conventions (French, English,
Spanish, the HCP's own): "Souq Sebt Oulad Nemma" and "Souk Sebt Ouled Nemma", "Beni Enzar"
and "Bni Ansar", "Zawyat ech Cheïkh" and "Zaouiat Cheikh", "Ghafsaï" and "Rhafsai". They
differ in vowels, in q or k, in gh or rh, in doubled letters, in the article, in the h of
digraphs and in abbreviations (My for Moulay), and agree on the consonants of the name.
Only the data build uses this (``spelt_alike``), to find the commune a place is where no
spelling matches exactly; lookups stay exact.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
# Words that begin so many names (a tribe's sons, a saint, a spring) that their consonants
# tell nothing apart: a skeleton's length is counted without them.
_COMMON_WORDS = frozenset(
    {"oulad", "ouled", "ulad", "sidi", "sid", "beni", "bni", "ait", "ben", "bou", "ain", "dar"}
)
# The HCP writes Moulay (a saint's title) as My.
_ABBREVIATIONS = {"my": "moulay"}
_ABBREVIATED = re.compile(r"\b(My)\b")
# An apostrophe after a single letter ends an elided particle (d', l', n'); elsewhere it
# writes a letter Latin lacks (Za'er, Ya'qoub): the word goes on.
_ELIDED = re.compile(r"\b([a-z])['’‘`]")
_APOSTROPHES = re.compile(r"['’‘`]")
_NOT_LETTERS = re.compile(r"[^a-z]+")
# غ is gh in one convention and rh in the older French one (Ghafsaï, Rhafsai): both read as
# one letter of its own, never as r (Ghabat is not Rabat). Read plainly too, gh is a g and rh
# an r (Bir Ghandouz and Bir Gandouz; Zerhoun and Zarhoun).
_GHAIN = re.compile(r"gh|rh")
_VOWELS_AND_H = re.compile(r"[aeiouyhw]")  # y and w write vowels too; h ends kh, ch, th…
_DOUBLED = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class Skeleton:
    """One reading of a name's consonants, and how many of them are its own (not those of
    the common words it begins with)."""

    letters: str
    own: int


@dataclass(frozen=True)
class Skeletons:
    whole: frozenset[Skeleton]  # the name as written
    without_market_day: frozenset[Skeleton]  # without its leading market day, if it has one


def skeletons(name: str) -> Skeletons:
    """The readings of ``name``'s consonants (q as k, ç as s, dj as j, doubles single,
    particles dropped, My as Moulay), whole and without a leading market day."""
    words = _words(name)
    whole = _readings(words)
    shorter: set[Skeleton] = set()
    while len(words) > 1 and words[0] in _MARKET_DAYS:
        words = words[1:]
        shorter |= _readings(words)
    return Skeletons(frozenset(whole), frozenset(shorter - whole))


def spelt_out(name: str) -> str:
    """``name`` with its abbreviations written in full: "My Idriss Zerhoun" → "Moulay Idriss
    Zerhoun" (what an alert's reader expects)."""
    return _ABBREVIATED.sub(lambda m: _ABBREVIATIONS[m.group(1).casefold()].title(), name)


def _words(name: str) -> list[str]:
    # ç is an s (Reçani, Rissani): before the cedilla is taken off.
    decomposed = unicodedata.normalize("NFKD", name.casefold().replace("ç", "s"))
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    joined = _APOSTROPHES.sub("", _ELIDED.sub(r"\1 ", letters))
    return [
        _ABBREVIATIONS.get(w, w)
        for w in _NOT_LETTERS.sub(" ", joined).split()
        if w not in _PARTICLES
    ]


def _readings(words: list[str]) -> set[Skeleton]:
    common = 0
    while common < len(words) and words[common] in _COMMON_WORDS:
        common += 1
    found = set()
    for ghain in ("ɣ", None):
        read = [_GHAIN.sub(ghain, w) if ghain else w for w in words]
        letters = _consonants("".join(read))
        if letters:
            found.add(Skeleton(letters, len(_consonants("".join(read[common:])))))
    return found


def _consonants(letters: str) -> str:
    plain = letters.replace("q", "k").replace("dj", "j")
    return _DOUBLED.sub(r"\1", _VOWELS_AND_H.sub("", plain))
