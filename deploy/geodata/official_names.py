"""The official names of the commune each gazetteer place is: a step of the data build.

Pure: the places (as the gazetteer file holds them) and HCP's communes in, the places with
their names out. The service only reads what it wrote (``intake_api.gazetteer``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from intake_api.gazetteer import normalise

from .spelt_alike import CommunesByConsonants
from .transliteration import spelt_out

# Places that are a commune no rule can tell, read by hand (GeoNames id → HCP commune code;
# each commune's census outline, its latitude set right, holds the place or lies within 400 m
# of it): GeoNames writes them in another language's letters, by part of the name or by
# another. They take the commune's Arabic name, as a commune spelt alike does.
NAMED_BY_HAND = {
    10374981: "09.163.01.11",  # Tine Biougra ("of Biougra" in Tashelhit): Biougra, بيوكرى
    2565267: "08.587.09.23",  # Mhamid: M'hamid El Ghizlane, امحاميد الغزلان
    2463090: "11.321.03.01",  # Bu Craa (Spanish letters, c for k): Boukraa, بوكراع
    # Boureït, which GeoNames also spells "Bab-Berret" (OpenStreetMap's town node, 250 m off,
    # is "Bab Berred"): Bab Berred, باب برد.
    2554130: "01.151.03.03",
    # Bellaa, a letter short (OpenStreetMap's town node, 500 m off, is "Belfaa"): Belfaâ, بلفاع.
    10869575: "09.163.05.11",
    # Souk El Arba Des Aït Baha, the town by its Wednesday market (OpenStreetMap's node, 100 m
    # off, is "Ait Baha"): the urban commune of Ait Baha, آيت باها.
    11131249: "09.163.01.03",
    # Skoura near Boulemane, the commune's seat (OpenStreetMap's node for the town, 70 m off,
    # is "Skoura M'Daz"): Skoura M'daz, سكورة-مداز. Its own name would be "سكورة", which names
    # the oasis near Ouarzazate too.
    2532626: "03.131.03.15",
    # Karia, the seat of Jbel Lahbib (OpenStreetMap's node for the village, 200 m off, is
    # "Jbel Lahbib"): Jbel Lahbib, جبل لحبيب. Its centre's name, "القرية", is "the village".
    12718691: "01.571.03.09",
}


def official_names(
    places: Sequence[dict[str, Any]], communes: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], float]:
    """Places with the official names of the commune each is (``ar``, and ``fr`` where one of
    the place's spellings is the commune's), and the share of places given an Arabic name.
    Used by the data build (``build.py``) on HCP's communes; it matches names on the
    gazetteer's own key (``normalise``), as ``lookup`` does.

    A place is the commune of its region one of whose names is one of the place's spellings
    (matched on the gazetteer's own key, so "Kenitra" finds "Kénitra"). Where several match,
    the most populous commune is taken only if it is the one named like the place's main
    name; otherwise the place keeps what GeoNames gives (no guess: a wrong Arabic name in an
    alert is worse than none). The official names become spellings too.

    A place no spelling matches may be the commune spelt with the same consonants
    (``spelt_alike``: "Souq Sebt Oulad Nemma" is "Souk Sebt Ouled Nemma"), if no other place
    is that commune by a spelling, even ambiguously, and no other place is spelt like it
    (two GeoNames records of one town would share its names and make them ambiguous). It
    takes the commune's Arabic name only: its French one, a spelling GeoNames never gave the
    place ("Méchouar-Fès-El Jadid" for New Fes), becomes a spelling to find it by, not the
    alert's text.
    """
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for commune in communes:
        region = f"MA-{commune['region_code']}"
        for name in {commune["name_fr"], commune["name_ar"]}:
            by_key.setdefault((region, normalise(name)), []).append(commune)
    exact: list[dict[str, Any] | None] = []
    spelt_so: list[bool] = []  # some spelling is a commune's name, even ambiguously
    taken: set[str] = set()
    for place in places:
        keys = {normalise(n) for n in (place["name"], *place["names"])}
        found = {c["code"]: c for k in keys for c in by_key.get((place["region"], k), [])}
        main = [c for c in found.values() if normalise(place["name"]) in _commune_keys(c)]
        match = list(found.values()) if len(found) == 1 else main if len(main) == 1 else []
        exact.append(match[0] if match else None)
        spelt_so.append(bool(found))
        taken |= set(found)
    by_consonants = CommunesByConsonants.of(communes)
    by_code = {c["code"]: c for c in communes}
    alike = [
        None if spelt else _by_hand(place, by_code) or by_consonants.commune_of(place)
        for place, spelt in zip(places, spelt_so, strict=True)
    ]
    claims = Counter(c["code"] for c in alike if c)
    out = []
    for place, official, spelt in zip(places, exact, alike, strict=True):
        if spelt and spelt["code"] not in taken and claims[spelt["code"]] == 1:
            out.append(_with_official_names(place, spelt, french=False))
        else:
            out.append(_with_official_names(place, official, french=True))
    named = sum(1 for p in out if "ar" in p)
    return out, named / max(len(out), 1)


def _by_hand(place: dict[str, Any], by_code: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The commune read by hand as the place (``NAMED_BY_HAND``), if it is one."""
    code = NAMED_BY_HAND.get(int(place.get("id", 0)))
    return by_code.get(code) if code else None


def _with_official_names(
    place: dict[str, Any], commune: dict[str, Any] | None, *, french: bool
) -> dict[str, Any]:
    """The place with the commune's names: a commune one of its spellings named gives its
    French name too, and both join the spellings; one spelt alike gives its Arabic name,
    and both are kept apart as ``spelt_like`` (found by, but never matched on exactly when
    the build runs again: it gives the same file). What a centre gave the place before
    (``hcp_centres``) is taken off too: it is given only where no commune names the place."""
    named = dict(place)
    for key in ("fr", "ar", "spelt_like", "hcp_centre"):
        named.pop(key, None)
    if not commune:
        return named
    named["ar"] = commune["name_ar"]
    if french:
        # Spelt out for the alert's text ("My Abdellah" is Moulay Abdellah); the HCP's own
        # spelling stays one to find it by.
        named["fr"] = spelt_out(commune["name_fr"])
        named["names"] = sorted(
            {*place["names"], commune["name_fr"], named["fr"], commune["name_ar"]}
        )
    else:
        named["spelt_like"] = sorted({commune["name_fr"], commune["name_ar"]})
    return named


def _commune_keys(commune: dict[str, Any]) -> set[str]:
    return {normalise(commune["name_fr"]), normalise(commune["name_ar"])}
