"""The commune a gazetteer place is, found by the consonants of its spellings: pure, no I/O.

For the data build's official names (``official_names``), where none of a place's
spellings is a commune's name exactly: GeoNames writes "Souq Sebt Oulad Nemma" and "Beni
Enzar", the HCP "Souk Sebt Ouled Nemma" and "Bni Ansar" (``transliteration``). A wrong name in
a public alert is worse than none, so a commune is taken only when nothing else is close:

- it is the only commune of the place's region with one of the place's skeletons;
- a skeleton has at least four consonants, three of them past the common first words (Oulad,
  Sidi, Beni…: "Sidi 'Addi" and "Sidi Daoud" share "sd"), or three and two from the place's
  main name (with or without its market day);
- a market day left out is left out on one side only: "Had Beni Chiker" is "Bni Chiker", but
  "Souk el Arba du Gharb" is not "Souk Tlet El Gharb";
- the place is not far more populous than the commune (a town is not the rural commune
  around it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .transliteration import Skeleton, skeletons

_LETTERS, _OWN = 4, 3  # a skeleton's consonants, and those past its common first words
_MAIN_LETTERS, _MAIN_OWN = 3, 2  # the same from the place's main name
# A place this many times as populous as the commune (at either census) is not that commune.
_LARGER = 1.5

Commune = dict[str, Any]
Index = Mapping[tuple[str, str], Mapping[str, Commune]]


@dataclass(frozen=True)
class CommunesByConsonants:
    whole: Index  # (region, skeleton) → the communes named so, by code
    without_market_day: Index  # the same, by their names without a leading market day

    @classmethod
    def of(cls, communes: Iterable[Commune]) -> CommunesByConsonants:
        whole: dict[tuple[str, str], dict[str, Commune]] = {}
        shorter: dict[tuple[str, str], dict[str, Commune]] = {}
        for commune in communes:
            region = f"MA-{commune['region_code']}"
            read = skeletons(commune["name_fr"])
            for index, readings in ((whole, read.whole), (shorter, read.without_market_day)):
                for skeleton in readings:
                    index.setdefault((region, skeleton.letters), {})[commune["code"]] = commune
        return cls(whole, shorter)

    def commune_of(self, place: Mapping[str, Any]) -> Commune | None:
        """The one commune of the place's region spelt like it; None if none or several
        are, or the one is implausible (the module's rules)."""
        found: dict[str, Commune] = {}
        region = place["region"]
        for name in (place["name"], *place["names"]):
            main = name == place["name"]
            read = skeletons(name)
            for skeleton in read.whole:
                if distinctive(skeleton, main=main):
                    found.update(self.whole.get((region, skeleton.letters), {}))
                    found.update(self.without_market_day.get((region, skeleton.letters), {}))
            for skeleton in read.without_market_day:
                if distinctive(skeleton, main=main):
                    found.update(self.whole.get((region, skeleton.letters), {}))
        if len(found) != 1:
            return None
        commune = next(iter(found.values()))
        return commune if _plausible(place, commune) else None


def distinctive(skeleton: Skeleton, *, main: bool) -> bool:
    """Whether ``skeleton`` has consonants enough to tell a place by (the module's rules):
    fewer from a place's main name than from its other spellings."""
    letters, own = (_MAIN_LETTERS, _MAIN_OWN) if main else (_LETTERS, _OWN)
    return len(skeleton.letters) >= letters and skeleton.own >= own


def _plausible(place: Mapping[str, Any], commune: Commune) -> bool:
    counted = [c for c in (commune.get("population_2014"), commune.get("population_2024")) if c]
    return not counted or int(place.get("population") or 0) <= _LARGER * max(counted)
