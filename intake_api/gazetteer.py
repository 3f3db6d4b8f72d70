"""Offline place lookup (issue 4 item 8): a town name in Arabic or French → coordinates.

The data is a Morocco extract of GeoNames (CC BY 4.0) built by ``deploy/geodata/build.py``,
each place tagged with its region (ISO 3166-2:MA code) by point-in-polygon. The file alone is
enough at run time: the regions' names come from the static table below. Matching is exact on
a normalised key, never fuzzy: a report names the place, and guessing a different town would
send the alert to the wrong people. Fuzzy matching only suggests candidates in the error.
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

DATA_DIR = Path(__file__).parent / "data"
PLACES_FILE = DATA_DIR / "morocco_places.json"


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


@dataclass(frozen=True)
class Place:
    id: int  # GeoNames id
    name: str
    lat: float
    lon: float
    population: int
    region: str  # ISO 3166-2:MA region code, e.g. "MA-06"


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

    "Laâyoune" and "LAAYOUNE" give the same key; "Dar el Beida" and "Dar-el-Beïda" too.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    arabic = _ARABIC_MARKS.sub("", stripped).translate(_ARABIC_FOLD)
    return _SEPARATORS.sub("", unicodedata.normalize("NFC", arabic))


@dataclass(frozen=True)
class Gazetteer:
    places: tuple[Place, ...]
    names: tuple[tuple[str, ...], ...]  # every spelling of places[i]
    region_names: Mapping[str, str]  # region code → display name, for error messages

    @cached_property
    def _index(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = defaultdict(list)
        for i, spellings in enumerate(self.names):
            for key in {normalise(s) for s in spellings}:
                index[key].append(i)
        return dict(index)

    def lookup(self, name: str) -> Place:
        """The one place ``name`` designates, or UnknownPlace / AmbiguousPlace."""
        key = normalise(name)
        hits = [self.places[i] for i in self._index.get(key, [])]
        if not hits:
            close = difflib.get_close_matches(key, self._index.keys(), n=5, cutoff=0.75)
            near = dict.fromkeys(self.places[i] for k in close for i in self._index[k])
            raise UnknownPlace(name, list(near))
        if len(hits) == 1:
            return hits[0]
        # A name shared by a city and a hamlet means the city: report writers name towns
        # people know. Only near-equal populations are truly ambiguous.
        hits.sort(key=lambda p: (-p.population, p.id))
        if hits[0].population >= _DOMINANCE * max(hits[1].population, 1):
            return hits[0]
        raise AmbiguousPlace(name, hits, self.region_names)


# A place must be this many times more populous than any namesake to win a shared name.
_DOMINANCE = 10


def build_gazetteer(
    records: Iterable[Mapping[str, object]], region_names: Mapping[str, str]
) -> Gazetteer:
    places: list[Place] = []
    names: list[tuple[str, ...]] = []
    for r in records:
        place = Place(
            id=int(str(r["id"])),
            name=str(r["name"]),
            lat=float(str(r["lat"])),
            lon=float(str(r["lon"])),
            population=int(str(r["population"])),
            region=str(r["region"]),
        )
        spellings = r.get("names", [])
        assert isinstance(spellings, list)
        places.append(place)
        names.append((place.name, *(str(s) for s in spellings)))
    return Gazetteer(places=tuple(places), names=tuple(names), region_names=dict(region_names))


def load_gazetteer(places: Path = PLACES_FILE) -> Gazetteer:
    """The gazetteer of a places file (the shipped one by default), read once per process."""
    return _load(places.resolve())


@cache
def _load(places: Path) -> Gazetteer:
    records = json.loads(places.read_text(encoding="utf-8"))
    return build_gazetteer(records, {code: r.fr for code, r in REGIONS.items()})
