"""The official Arabic names of HCP's urban centres, for gazetteer places no commune names: a
step of the data build.

Pure: the places (as ``official_names`` returns them) and the centres in, the places with
their names out. Many places are not a commune but the centre of one: the village or small
town that HCP's census counts apart from the rest of its rural commune, under a name of its
own ("Jebha (Centre)", "الجبهة المركز", of the commune of M'tioua). A centre names a place
by the rules that let a commune name it (``official_names``), as a wrong Arabic name in a
public alert is worse than none:

- the place has no official name yet (a commune's names come first);
- the centre is the only one of the place's region one of whose names is one of the place's
  spellings (on the gazetteer's matching key), or, where none is, the only one spelt with the
  same consonants (``spelt_alike``'s rules; a leading "Douar", village, left out);
- no other place is that centre;
- no place of the region has the centre's Arabic name as its official name already (GeoNames
  lists a few towns twice, and a second record named alike would make the name ambiguous);
- every other place named like the place (by its name or a spelling) has that Arabic name as
  its own already: where the Latin name is ambiguous, an Arabic one given to one of the places
  alone would settle it without asking ("Skoura" is a village near Boulemane and the oasis
  near Ouarzazate, whose official name is its commune's, "سكورة اهل الوسط": "سكورة" would
  find the village). Where the others have it too ("Ras el Ma" near Fès, "رأس الماء" like
  Ras Kebdana's), the name asks which, as the Latin one does, or names the place it alone
  can mean.

A centre no rule can tell is the place may be read by hand as it (``NAMED_BY_HAND``). (A
centre whose name a reader would misread, Karia's "القرية", "the village", gives none: the
place is read by hand as its commune, whose names come first.)

Such a place gets the centre's Arabic name (``ar``), the centre's names as spellings to be found
by (``spelt_like``, as ``official_names`` keeps a commune spelt alike: never matched on exactly
when the build runs again, so it gives the same file) and the centre as HCP labels it
(``hcp_centre``). ``official_names`` takes all three off a place when it runs again.

The centres' outlines in the source are not used: they are drawn about 20 km north of the
places they are (their latitudes are off by ≈ 0.18°, their longitudes are right), which a
distance rule would have to correct by a guess.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intake_api.gazetteer import normalise

from .spelt_alike import CommunesByConsonants

_CENTRE_FR = re.compile(r"\s*\(Centre\)\s*$")
# "المركز", "the centre", ends each centre's Arabic label (once written twice, run together).
_CENTRE_AR = re.compile(r"\s*(?:المركز|مركز)+\s*$")
# "Douar" (village) begins some GeoNames names that HCP writes without it.
_VILLAGE = re.compile(r"^douar\s+", re.IGNORECASE)
# GeoNames id → the centre, as HCP labels it; read by hand (the place lies within 2 km of
# the centre's outline once its latitude is set right).
NAMED_BY_HAND = {
    10795660: "Sebt Lamaarif (Centre)",  # Sebt El Maarif (the article written apart): سبت المعاريف
    2558414: "Guigou (Centre)",  # Almis du Guigou ("the plain of Guigou"): كيكو
}


@dataclass(frozen=True)
class Centre:
    region: str  # ISO 3166-2:MA, e.g. MA-01
    label: str  # as HCP labels it: "Jebha (Centre)"
    name_fr: str  # "Jebha"
    name_ar: str  # "الجبهة"

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Centre | None:
        """The centre a source record describes; None for a commune or an unnamed record."""
        label = " ".join(str(record["libelle_fr"]).split())
        if not _CENTRE_FR.search(label):
            return None
        name_fr = _CENTRE_FR.sub("", label)
        name_ar = " ".join(_CENTRE_AR.sub("", str(record["libelle_ar"])).split())
        if not name_fr or not name_ar:
            return None
        region = f"MA-{int(float(record['code_reg'])):02d}"
        return cls(region=region, label=label, name_fr=name_fr, name_ar=name_ar)

    def as_commune(self) -> dict[str, Any]:
        """The centre in the shape ``spelt_alike`` reads a commune (no census figures)."""
        return {
            "code": self.key,
            "region_code": self.region.removeprefix("MA-"),
            "name_fr": self.name_fr,
            "name_ar": self.name_ar,
        }

    @property
    def key(self) -> str:
        return f"{self.region} {self.label}"


def centre_names(
    places: Sequence[Mapping[str, Any]], centres: Sequence[Centre]
) -> tuple[list[dict[str, Any]], int]:
    """The places with the names of the centre each is (the module's rules), and how many
    were given one."""
    by_key: dict[tuple[str, str], dict[str, Centre]] = {}
    for centre in centres:
        for name in (centre.name_fr, centre.name_ar):
            by_key.setdefault((centre.region, normalise(name)), {})[centre.key] = centre
    by_consonants = CommunesByConsonants.of(c.as_commune() for c in centres)
    by_code = {c.key: c for c in centres}
    official = {(p["region"], normalise(p["ar"])) for p in places if p.get("ar")}
    named_so: dict[str, list[Mapping[str, Any]]] = {}
    for p in places:
        for key in {normalise(n) for n in (p["name"], *p["names"])}:
            named_so.setdefault(key, []).append(p)
    found = [
        None if place.get("ar") else _centre_of(place, by_key, by_consonants, by_code)
        for place in places
    ]
    claims = Counter(c.key for c in found if c is not None)
    out = []
    for place, match in zip(places, found, strict=True):
        given = (
            match is not None
            and claims[match.key] == 1
            and (place["region"], normalise(match.name_ar)) not in official
            and _namesakes_share(place, match, named_so[normalise(place["name"])])
        )
        out.append(_with_centre(place, match if given else None))
    return out, sum(1 for p in out if "hcp_centre" in p)


def _namesakes_share(
    place: Mapping[str, Any], centre: Centre, named_so: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether every other place named like ``place`` has the centre's Arabic name as its own
    (so that name settles nothing the Latin one leaves open)."""
    arabic = normalise(centre.name_ar)
    others = [other for other in named_so if other is not place]
    return all(normalise(other.get("ar") or "") == arabic for other in others)


def _centre_of(
    place: Mapping[str, Any],
    by_key: Mapping[tuple[str, str], Mapping[str, Centre]],
    by_consonants: CommunesByConsonants,
    by_code: Mapping[str, Centre],
) -> Centre | None:
    """The one centre of the place's region named like it, else the one spelt alike, else the
    one read by hand as it."""
    spellings = {
        normalise(n)
        for name in (place["name"], *place["names"])
        for n in (name, _VILLAGE.sub("", name))
    }
    named = {k: c for s in spellings for k, c in by_key.get((place["region"], s), {}).items()}
    if named:
        return next(iter(named.values())) if len(named) == 1 else None
    plain = {
        **place,
        "name": _VILLAGE.sub("", place["name"]),
        "names": [_VILLAGE.sub("", n) for n in place["names"]],
    }
    alike = by_consonants.commune_of(plain)
    if alike:
        return by_code[alike["code"]]
    label = NAMED_BY_HAND.get(int(place.get("id", 0)))
    return by_code.get(f"{place['region']} {label}") if label else None


def _with_centre(place: Mapping[str, Any], centre: Centre | None) -> dict[str, Any]:
    named = dict(place)
    named.pop("hcp_centre", None)  # the step's own: drawn afresh when it runs again
    if centre is None:
        return named
    named["ar"] = centre.name_ar
    named["spelt_like"] = sorted({centre.name_fr, centre.name_ar})
    named["hcp_centre"] = centre.label
    return named
