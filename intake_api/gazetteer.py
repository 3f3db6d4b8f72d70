"""Offline place lookup: a town name in Arabic or French → coordinates.

The data is a Morocco extract of GeoNames (CC BY 4.0) built by ``deploy/geodata/build.py``,
each place tagged with its region (ISO 3166-2:MA code) by point-in-polygon. The file alone is
enough at run time: the regions' names come from the static table below. Matching is exact on
a normalised key, never fuzzy: a report names the place, and guessing a different town would
send the alert to the wrong people. Fuzzy matching only suggests candidates in the error. A
place's own names (its main name, its Arabic, French and Tifinagh names) outrank the other
places' alternate spellings: "Khenifra" is Khénifra, though GeoNames lists it for Kénitra too.
A name in Arabic or Tifinagh asks wherever the place's Latin name asks, among the namesakes
whose name in that script the data lacks: "إفران" asks which Ifrane, as "Ifrane" does.

Each language's alert text names the place in that language (``names_in_languages``): the
file's ``ar``/``fr``/``zgh`` names where the build found them, else a spelling of that script
chosen from the place's GeoNames alternate names.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pyproj import Geod

from shared.alert_contract import Language

DATA_DIR = Path(__file__).parent / "data"
PLACES_FILE = DATA_DIR / "morocco_places.json"
_WGS84 = Geod(ellps="WGS84")


# The shortest spelling whose completions are suggested: fewer letters begin too many names.
_SHORTEST_PREFIX = 3


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-2:MA
    fr: str
    ar: str


# Morocco's 12 regions (2015 division), as named in the boundary data the alert engine ships.
REGIONS: Mapping[str, Region] = {
    r.code: r
    for r in (
        Region("MA-01", "Tanger-Tétouan-Al Hoceima", "طنجة تطوان الحسيمة"),
        Region("MA-02", "Oriental", "الشرقية"),
        Region("MA-03", "Fès-Meknès", "فاس-مكناس"),
        Region("MA-04", "Rabat-Salé-Kénitra", "الرباط-سلا-القنيطرة"),
        Region("MA-05", "Béni Mellal-Khénifra", "بني ملال-خنيفرة"),
        Region("MA-06", "Casablanca-Settat", "الدار البيضاء-سطات"),
        Region("MA-07", "Marrakech-Safi", "مراكش-أسفي"),
        Region("MA-08", "Drâa-Tafilalet", "درعة تافيلالت"),
        Region("MA-09", "Souss-Massa", "سوس-ماسة"),
        Region("MA-10", "Guelmim-Oued Noun", "كلميم وادي نون"),
        Region("MA-11", "Laâyoune-Sakia El Hamra", "العيون الساقية الحمراء"),
        Region("MA-12", "Dakhla-Oued Ed-Dahab", "الداخلة-وادي الذهب"),
    )
}


# A place name and its region after it: "Name (Region)", or "Name, Region" (Arabic comma too).
_REGION_AFTER = re.compile(
    r"^(?P<name>[^(),،]+?)\s*(?:\((?P<inside>[^()]+)\)|[,،](?P<after>[^,،]+))\s*$"
)


def _with_region(name: str) -> tuple[str, str] | None:
    """(place name, region code) if ``name`` ends with a region's code or name, French or
    Arabic; else None."""
    match = _REGION_AFTER.match(name.strip())
    if match is None:
        return None
    said = normalise(match["inside"] or match["after"])
    for code, region in REGIONS.items():
        if said in {normalise(code), normalise(region.fr), normalise(region.ar)}:
            return match["name"], code
    return None


def without_region(name: str) -> str:
    """``name`` without the region said after it, if one is ("Ifrane (MA-05)": "Ifrane")."""
    qualified = _with_region(name)
    return name if qualified is None else qualified[0]


@dataclass(frozen=True)
class Place:
    id: int  # GeoNames id
    name: str
    lat: float
    lon: float
    population: int
    region: str  # ISO 3166-2:MA region code, e.g. "MA-06"
    ar: str | None = None  # the place's name in Arabic, if known
    fr: str | None = None  # in French, if known (else ``name``, GeoNames' Latin name)
    zgh: str | None = None  # in Tifinagh, if known


class UnknownPlace(LookupError):
    def __init__(self, query: str, near: list[Place]) -> None:
        self.query = query
        self.near = near  # places with a close spelling, to suggest
        self.candidates = list(dict.fromkeys(p.name for p in near))  # their names
        hint = f"; did you mean {', '.join(self.candidates)}?" if self.candidates else ""
        super().__init__(f"no place named {query!r}{hint}")


class AmbiguousPlace(LookupError):
    def __init__(self, query: str, candidates: list[Place], region_names: Mapping[str, str]):
        self.query = query
        self.candidates = candidates
        listed = ", ".join(
            f"{p.name} ({region_names.get(p.region, p.region)}, {p.lat:.3f},{p.lon:.3f})"
            for p in candidates
        )
        super().__init__(f"{query!r} names several places: {listed}")


# Arabic marks that spellings use inconsistently: harakat (vowel signs), tatweel, and the
# hamza/madda variants of alif, teh marbuta vs heh, alif maqsura vs yeh.
_ARABIC_MARKS = re.compile(r"[\u064B-\u065F\u0670\u0640]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})
_SEPARATORS = re.compile(r"[\s\-‐‑'’`_.,]+")


def normalise(name: str) -> str:
    """A matching key: case, Latin diacritics, Arabic marks, hyphens and spaces ignored.

    "Laâyoune" and "LAAYOUNE" give the same key; "Dar el Beida" and "Dar-el-Beïda" too, and
    "Casablanca" with a left-to-right mark after it.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    # Format characters too: the direction marks (U+200E, U+200F, U+061C) that Arabic-locale
    # keyboards and forms insert around a Latin name, which the text rules allow.
    stripped = "".join(
        c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    )
    arabic = _ARABIC_MARKS.sub("", stripped).translate(_ARABIC_FOLD)
    return _SEPARATORS.sub("", unicodedata.normalize("NFC", arabic))


def script_of(name: str) -> str | None:
    """ "arabic", "tifinagh" or "latin": the script all of ``name``'s letters are in; None if
    it has no letter, or letters of several."""
    letters = [c for c in name if c.isalpha()]
    if not letters:
        return None
    if all("\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f" for c in letters):
        return "arabic"
    if all("\u2d30" <= c <= "\u2d7f" for c in letters):
        return "tifinagh"
    if all(unicodedata.name(c, "").startswith("LATIN") for c in letters):
        return "latin"
    return None


# Letters of Persian, Urdu, Pashto or Kurdish spellings that GeoNames lists beside the Arabic
# ones (ی ک گ پ چ ژ ہ ٹ ...): a Modern Standard Arabic text uses none of them.
_NOT_MSA = set("پچژگکیۀہھٹڈڑںۓےݣګټڕەۆێ")


def _arabic_score(name: str) -> tuple[int, int, str]:
    """Sort key among Arabic spellings, best first: the definite article that most Arabic
    town names carry (الرباط, الدار البيضاء), then the standard final tāʾ marbūṭa (طنجة
    before تنجه), then a single word over a compound (وجدة before وجدة-أنجاد)."""
    article = name.startswith("ال")
    marbuta = name.endswith("ة")
    return (-(2 * article + marbuta), len(name.split("-")), name)


def _chosen_names(record: Mapping[str, object], spellings: tuple[str, ...]) -> dict[str, str]:
    """The place's name per script: the file's own where given, else chosen from
    ``spellings``."""
    chosen = {k: str(record[k]) for k in ("ar", "fr", "zgh") if record.get(k)}
    if "ar" not in chosen:
        arabic = [s for s in spellings if script_of(s) == "arabic" and not set(s) & _NOT_MSA]
        if arabic:
            chosen["ar"] = min(arabic, key=_arabic_score)
    if "zgh" not in chosen:
        tifinagh = sorted(s for s in spellings if script_of(s) == "tifinagh")
        if tifinagh:
            chosen["zgh"] = tifinagh[0]
    return chosen


@dataclass(frozen=True)
class Gazetteer:
    places: tuple[Place, ...]
    names: tuple[tuple[str, ...], ...]  # every spelling of places[i]
    region_names: Mapping[str, str]  # region code → display name, for error messages

    @cached_property
    def _index(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = defaultdict(list)
        for i, spellings in enumerate(self.names):
            # (A blank spelling, which GeoNames lists for some places, names none of them.)
            for key in {normalise(s) for s in spellings} - {""}:
                index[key].append(i)
        return dict(index)

    @cached_property
    def _own_keys(self) -> tuple[frozenset[str], ...]:
        """Per place, the keys of its own names (main, Arabic, French, Tifinagh)."""
        return tuple(
            frozenset(normalise(n) for n in (p.name, p.ar, p.fr, p.zgh) if n) for p in self.places
        )

    def knows(self, name: str) -> bool:
        """Whether ``name`` is a spelling of some place, its region after it or not (a cheap
        test: ``lookup`` of an unknown name searches for close spellings to suggest)."""
        return normalise(without_region(name)) in self._index

    def lookup(self, name: str) -> Place:
        """The one place ``name`` designates, or UnknownPlace / AmbiguousPlace.

        A name may say its region after it, as the candidates of an ambiguous one are listed
        ("Dakhla (MA-12)", "Dakhla, Dakhla-Oued Ed-Dahab", "الداخلة، الداخلة-وادي الذهب"):
        only places of that region are then looked at."""
        key = normalise(name)
        if key not in self._index:
            qualified = _with_region(name)
            if qualified is not None:
                return self._pick(qualified[0], normalise(qualified[0]), qualified[1])
        return self._pick(name, key, None)

    def _pick(self, name: str, key: str, region: str | None) -> Place:
        chosen = self._found(key, region)
        script = script_of(name)
        if script in _OTHER_SCRIPTS:
            namesakes = self._unnamed_namesakes(self._found(key, None), _OTHER_SCRIPTS[script])
            chosen += [i for i in self._found_in(namesakes, region) if i not in chosen]
        if not chosen:
            raise UnknownPlace(name, self._suggestions(key))
        hits = [self.places[i] for i in chosen]
        if len(hits) == 1:
            return hits[0]
        # A name shared by a city and a hamlet means the city: report writers name towns
        # people know. Only near-equal populations are truly ambiguous.
        hits.sort(key=lambda p: (-p.population, p.id))
        if hits[0].population >= _DOMINANCE * max(hits[1].population, 1):
            return hits[0]
        raise AmbiguousPlace(name, hits, self.region_names)

    def _found(self, key: str, region: str | None) -> list[int]:
        """The places spelt ``key`` (of ``region`` if given): those whose own name it is, if
        any, as a place's own name beats another place's alternate spelling of it."""
        indices = self._found_in(self._index.get(key, []), region)
        own = [i for i in indices if key in self._own_keys[i]]
        return own or indices

    def _found_in(self, indices: list[int], region: str | None) -> list[int]:
        return [i for i in indices if region is None or self.places[i].region == region]

    def _unnamed_namesakes(self, found: list[int], language: str) -> list[int]:
        """The other places spelt like the Latin name of a place ``found`` (by a name in
        another script) that have no name of their own in that ``language``: for all the
        gazetteer knows, that name is theirs too, and the Latin name's rules decide between
        them. Without them, "إفران" would find Ifrane near Fès alone while "Ifrane" asks
        which of two, as only one of the two has its Arabic name in the data. A namesake
        with a name of its own in the language is left out: that name, not the one typed, is
        known to be its."""
        namesakes: list[int] = []
        for i in found:
            place = self.places[i]
            latin = normalise(place.fr or place.name)
            namesakes += [
                j
                for j in self._found(latin, None)
                if j != i and getattr(self.places[j], language) is None
            ]
        return list(dict.fromkeys(namesakes))

    def _suggestions(self, key: str) -> list[Place]:
        """Places to suggest for an unknown spelling, at most five: those it begins (an
        abbreviation, "Casa"), the largest first, then those spelt closely."""
        begun = (
            sorted(
                {i for k, found in self._index.items() if k.startswith(key) for i in found},
                key=lambda i: (-self.places[i].population, self.places[i].id),
            )
            if len(key) >= _SHORTEST_PREFIX
            else []
        )
        close = difflib.get_close_matches(key, self._index.keys(), n=5, cutoff=0.75)
        near = [self.places[i] for i in begun] + [
            self.places[i] for k in close for i in self._index[k]
        ]
        return list(dict.fromkeys(near))[:5]

    def distances_km(self, lat: float, lon: float) -> npt.NDArray[np.float64]:
        """Each place's geodesic distance from (lat, lon), in kilometres, in ``places`` order."""
        lats, lons = self._coordinates
        _, _, metres = _WGS84.inv(np.full_like(lons, lon), np.full_like(lats, lat), lons, lats)
        return np.asarray(metres) / 1000.0

    @cached_property
    def _coordinates(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        return (
            np.array([p.lat for p in self.places], dtype=float),
            np.array([p.lon for p in self.places], dtype=float),
        )

    def names_in_languages(self, place: Place, typed: str | None = None) -> dict[Language, str]:
        """The place's name for each alert language (``ar``, ``fr``, ``zgh``, ``en``).

        Arabic: the typed spelling if it is in Arabic script (the officer's own), else the
        place's Arabic name. French and English: the French name, else the typed spelling if
        it is in Latin script, else the main name. Tifinagh: the Tifinagh name, else the
        French one (Amazigh texts commonly write unknown names in Latin letters). Arabic is
        left out when the place has no Arabic name: the text keeps the spelling typed."""
        script = script_of(typed) if typed else None
        latin = place.fr or (typed if script == "latin" and typed else place.name)
        names: dict[Language, str] = {"fr": latin, "en": latin, "zgh": place.zgh or latin}
        arabic = typed if script == "arabic" and typed else place.ar
        if arabic:
            names["ar"] = arabic
        return names


def designated(gazetteer: Gazetteer, typed: str) -> Place | None:
    """The place ``typed`` designates; None if it designates no single place (a name given
    beside a point need not be in the gazetteer)."""
    if not gazetteer.knows(typed):
        return None  # no suggestions to look for: nothing is refused
    try:
        return gazetteer.lookup(typed)
    except LookupError:
        return None


# A place must be this many times more populous than any namesake to win a shared name.
_DOMINANCE = 10
# The scripts whose names the data lacks for some places, and the name of each.
_OTHER_SCRIPTS = {"arabic": "ar", "tifinagh": "zgh"}


def build_gazetteer(
    records: Iterable[Mapping[str, object]], region_names: Mapping[str, str]
) -> Gazetteer:
    """The gazetteer from place records: every spelling indexed, a name shared by several places
    kept only by a far more populous one."""
    places: list[Place] = []
    names: list[tuple[str, ...]] = []
    for r in records:
        spellings, spelt_like = r.get("names", []), r.get("spelt_like", [])
        assert isinstance(spellings, list) and isinstance(spelt_like, list)
        all_spellings = (str(r["name"]), *(str(s) for s in [*spellings, *spelt_like]))
        chosen = _chosen_names(r, all_spellings)
        place = Place(
            id=int(str(r["id"])),
            name=str(r["name"]),
            lat=float(str(r["lat"])),
            lon=float(str(r["lon"])),
            population=int(str(r["population"])),
            region=str(r["region"]),
            ar=chosen.get("ar"),
            fr=chosen.get("fr"),
            zgh=chosen.get("zgh"),
        )
        places.append(place)
        names.append((*all_spellings, *(n for n in chosen.values() if n not in all_spellings)))
    return Gazetteer(places=tuple(places), names=tuple(names), region_names=dict(region_names))


def load_gazetteer(places: Path = PLACES_FILE) -> Gazetteer:
    """The gazetteer of a places file (the shipped one by default), read once per process."""
    return _load(places.resolve())


@cache
def _load(places: Path) -> Gazetteer:
    records = json.loads(places.read_text(encoding="utf-8"))
    return build_gazetteer(records, {code: r.fr for code, r in REGIONS.items()})
