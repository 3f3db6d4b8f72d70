"""The Arabic and Tifinagh names OpenStreetMap gives a gazetteer place: a step of the data build.

Pure: the places (after ``official_names``) and OpenStreetMap's place nodes in, the places with
their names out. In Morocco, OpenStreetMap writes a place's ``name`` in its three scripts
("Timahdite ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت"). A wrong name in a public alert is worse than none, so a node
gives its names to a place only when it is that place beyond reasonable doubt:

- it lies within ``NEAR_M`` of the place (GeoNames and OpenStreetMap put a village's point a
  few hundred metres apart, a town's up to a few kilometres);
- it names the place: its Arabic is the place's Arabic name or one of its Arabic spellings,
  or its Latin is one of the place's Latin spellings (on the gazetteer's matching key), or is
  spelt with the same consonants (``transliteration``, as ``spelt_alike`` requires them), or
  it was read by hand as naming it (``NAMED_BY_HAND``);
- no other node near the place names it with another Arabic or Tifinagh name;
- of the places it names, the place is the nearest (two GeoNames records of one town do not
  both take its names: their names would become ambiguous); nor does a place take an Arabic
  name that another place of its region has as its official name.

Such a node gives the place its Tifinagh name, its Arabic name where the place has no
official one (HCP's names, from ``official_names``, are never replaced), and the node's id,
where anyone can check them (openstreetmap.org/node/<id>). They are not added to the place's
spellings: the gazetteer finds a place by its names anyway, and a spelling that the next
build matched communes on would make it give another file.

A node's name is taken only when each script's words are together; a script whose words hold
anything but its letters (a bullet, a digit, a bracket) is left out, and its other scripts
are kept. An Arabic name is taken only in the letters of Modern Standard Arabic (not گ or ڭ,
which some Moroccan names use for g, but an alert's Arabic text does not).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from alert_engine.geodesy import WGS84
from intake_api.gazetteer import build_gazetteer, normalise, script_of

from .spelt_alike import distinctive
from .transliteration import skeletons

FloatArray = npt.NDArray[np.float64]

NEAR_M = 5_000.0
# Degrees around a place that hold every point within NEAR_M (a degree of longitude is 76 km
# at Morocco's northern tip, 36°).
_NEAR_LAT_DEG, _NEAR_LON_DEG = 0.05, 0.07
# What may join a name's words or letters: hyphens and apostrophes.
_JOINERS = frozenset("-‐'’ʼ")
# Modern Standard Arabic's letters (hamza to yeh) and its marks (fathatan to sukun).
_MSA = frozenset(chr(c) for c in range(0x0621, 0x064B)) - {"\u0640"}
_ARABIC_MARKS = frozenset(chr(c) for c in range(0x064B, 0x0653))
# Arabic names a node gives that the rules let through but a reader would misread, refused by
# place (GeoNames id) after reading every name the step gives.
REFUSED_ARABIC = {
    # "الساحل", "the coast": OpenStreetMap's Arabic drops the market day of Khemis Sahel.
    2544367: "a common noun without the place's market day",
}


# Nodes that are a place although the rules cannot tell (a word or a consonant apart), read
# by hand against the node's three names and where it lies: place (GeoNames id) → node.
NAMED_BY_HAND = {
    2549979: 1210538786,  # El Kelaa des Srarhna: El Kelâat Es-Sraghna, قلعة السراغنة
    2538059: 663766321,  # Rich: Er-Rich, الريش
    2553382: 1119720107,  # Echemmaia Est: Echemmaia, الشماعية
    10375207: 2153902671,  # My Drarga: Drargua, الدراركة
    2533182: 1955924625,  # Sidi Rahal: Sidi Rahal Chatai, سيدي رحال
    2550162: 1954988611,  # El Harhoura: Harhoura, هرهورة
    2526389: 2037523691,  # Zaouïa Aït Ishak: Aït Ishaq, آيت إسحاق
    2539114: 1991263363,  # Oulad Yaïch: Ouled Yaïch, أولاد ايعيش
    2532420: 1342040682,  # Jem’at Oulad ’Abbou: Oulad Abbou, أولاد عبو
    2535619: 2213577002,  # Sidi Bou Lanouar: Boulanouare, بولنوار
    2540704: 1976780855,  # Oued el Himer: Oued Heimer, وادي الحيمر
    2558844: 1035918792,  # Ait Yazza: Ait Iaaza, آيت ايعزة
    11025160: 1961939188,  # Lemhaya: M'Haya, المهاية
    12718672: 1865092943,  # Ras El Aïn: Ras Al Ain, رأس العين
    2527002: 2050450472,  # Tlet Ighoud (its market day, Tuesday): Ighoud, إيغود
    2558414: 2020295346,  # Almis du Guigou ("the plain of Guigou"), 480 m off: Guigou, كيكو
}


@dataclass(frozen=True)
class OsmPlace:
    """An OpenStreetMap place node, with its name in each script it is written in."""

    node: int
    lon: float
    lat: float
    latin: str = ""
    arabic: str = ""
    tifinagh: str = ""

    @classmethod
    def of(cls, node: int, lon: float, lat: float, name: str) -> OsmPlace | None:
        """The node with its ``name`` split by script (``split_by_script``); None if it
        cannot be split (a script's words apart, a word mixing scripts or of no letters), or
        no script is left."""
        scripts = split_by_script(name)
        if scripts is None:
            return None
        return cls(
            node,
            lon,
            lat,
            scripts.get("latin", ""),
            scripts.get("arabic", ""),
            scripts.get("tifinagh", ""),
        )


def split_by_script(name: str) -> dict[str, str] | None:
    """'Timahdite ⵜⵉⵎⵃⴹⵉⵜ تيمحضيت' → {"latin": "Timahdite", "tifinagh": "ⵜⵉⵎⵃⴹⵉⵜ", "arabic":
    "تيمحضيت"}; None unless each script's words come together and each word is in one.

    A script with a sign among its letters (a bullet, a digit, a bracket) is left out, and
    the others are kept: "Taouima ⵜⵉⵏ•ⴳⵎⴻⵔⵜ تاويمة" gives its Latin and Arabic names. None if
    no script is left."""
    # Direction marks (U+200E…) that editors leave around the Arabic: not part of the name.
    visible = "".join(c for c in name if unicodedata.category(c) != "Cf")
    found: dict[str, list[str]] = {}
    signed: set[str] = set()
    last = None
    for word in visible.split():
        script = script_of(word)
        if script is None:
            return None
        if script != last and script in found:
            return None  # "Ait ⴰⵢⵜ Ourir": which words are the Latin name?
        found.setdefault(script, []).append(word)
        if not _letters_only(word):
            signed.add(script)
        last = script
    kept = {script: " ".join(words) for script, words in found.items() if script not in signed}
    return kept or None


def _letters_only(word: str) -> bool:
    """Whether ``word`` is letters (and their marks), joined by hyphens or apostrophes only."""
    return all(c.isalpha() or c in _JOINERS or unicodedata.category(c) == "Mn" for c in word)


def is_standard_arabic(name: str) -> bool:
    """Whether ``name`` is written in Modern Standard Arabic's letters only."""
    return all(c in _MSA or c in _ARABIC_MARKS or c == " " or c in _JOINERS for c in name)


@dataclass(frozen=True)
class NameShares:
    """What the step gave: shares of all places (0–1) the gazetteer names in each script."""

    arabic_before: float  # in Arabic, before the step (an official name, or a spelling)
    arabic: float  # after it
    tifinagh: float  # in Tifinagh, after it
    from_osm: int  # places given a name by their node


def osm_names(
    places: Sequence[Mapping[str, Any]], nodes: Iterable[OsmPlace]
) -> tuple[list[dict[str, Any]], NameShares]:
    """The places with the names of the node each is (the module's rules), and the shares."""
    node_of = _nodes_of(places, [n for n in nodes if n.arabic or n.tifinagh])
    # Another record of a town an official name was given to (GeoNames has a few twice): its
    # name given again would make it ambiguous.
    official = {(p["region"], normalise(p["ar"])) for p in places if p.get("ar")}
    named = [_with_names(place, node_of.get(index), official) for index, place in enumerate(places)]
    out = [place for place, _ in named]
    arabic, tifinagh = _named_shares(out)
    return out, NameShares(
        arabic_before=_named_shares(places)[0],
        arabic=arabic,
        tifinagh=tifinagh,
        from_osm=sum(1 for _, given in named if given),
    )


def _nodes_of(
    places: Sequence[Mapping[str, Any]], nodes: Sequence[OsmPlace]
) -> dict[int, OsmPlace]:
    """The node each place is (by the place's index), for the places that have one: of the
    places a node names, the nearest."""
    lons = np.array([n.lon for n in nodes])
    lats = np.array([n.lat for n in nodes])
    nearest: dict[int, tuple[float, int]] = {}  # node id → (metres, place index)
    by_id = {n.node: n for n in nodes}
    for index, place in enumerate(places):
        found = _node_of(place, nodes, lons, lats)
        if found is not None:
            metres, node = found
            if node.node not in nearest or metres < nearest[node.node][0]:
                nearest[node.node] = (metres, index)
    return {index: by_id[node] for node, (_, index) in nearest.items()}


def _with_names(
    place: Mapping[str, Any], node: OsmPlace | None, official: Collection[tuple[str, str]]
) -> tuple[dict[str, Any], bool]:
    """The place with its node's Tifinagh name, and its Arabic one where the place has none
    and no place of its region has it (``official``: region, matching key); and whether the
    node gave it any."""
    named = dict(place)
    for own in ("zgh", "osm_node"):  # the step's own fields: drawn afresh when it runs again
        named.pop(own, None)
    if node is None:
        return named, False
    if node.tifinagh:
        named["zgh"] = node.tifinagh
    arabic = (
        bool(node.arabic)
        and not named.get("ar")
        and is_standard_arabic(node.arabic)
        and place["id"] not in REFUSED_ARABIC
        and (place["region"], normalise(node.arabic)) not in official
    )
    if arabic:
        named["ar"] = node.arabic
    given = bool(node.tifinagh) or arabic
    if given:
        named["osm_node"] = node.node
    return named, given


def _named_shares(places: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """The shares of places the gazetteer names in Arabic and in Tifinagh (by their fields,
    else by a spelling in that script: ``intake_api.gazetteer``'s own choice)."""
    named = build_gazetteer(places, {}).places
    count = max(len(named), 1)
    return sum(1 for p in named if p.ar) / count, sum(1 for p in named if p.zgh) / count


def _node_of(
    place: Mapping[str, Any],
    nodes: Sequence[OsmPlace],
    lons: FloatArray,
    lats: FloatArray,
) -> tuple[float, OsmPlace] | None:
    """(metres, node) of the node that is ``place``, if one is beyond doubt."""
    near = np.flatnonzero(
        (np.abs(lats - place["lat"]) <= _NEAR_LAT_DEG)
        & (np.abs(lons - place["lon"]) <= _NEAR_LON_DEG)
    )
    if not len(near):
        return None
    _, _, metres = WGS84.inv(
        np.full(len(near), place["lon"]), np.full(len(near), place["lat"]), lons[near], lats[near]
    )
    keys = _Keys.of(place)
    naming = sorted(
        (
            (float(m), nodes[int(i)])
            for m, i in zip(metres, near, strict=True)
            if m <= NEAR_M
            and (keys.named(nodes[int(i)]) or NAMED_BY_HAND.get(place["id"]) == nodes[int(i)].node)
        ),
        key=lambda found: (found[0], found[1].node),
    )
    if not naming:
        return None
    for script in ("arabic", "tifinagh"):
        if len({normalise(getattr(n, script)) for _, n in naming if getattr(n, script)}) > 1:
            return None  # two nearby nodes name it differently: which is right?
    return naming[0]


@dataclass(frozen=True)
class _Keys:
    arabic: frozenset[str]  # matching keys of the place's Arabic name and spellings
    latin: frozenset[str]  # of its Latin spellings
    consonants: frozenset[str]  # distinctive consonant skeletons of its Latin spellings

    @classmethod
    def of(cls, place: Mapping[str, Any]) -> _Keys:
        spellings = [place["name"], *place["names"], place.get("ar") or "", place.get("fr") or ""]
        scripts = [split_by_script(s) for s in spellings if s]
        arabic = {normalise(s["arabic"]) for s in scripts if s and set(s) == {"arabic"}}
        latin = [s["latin"] for s in scripts if s and set(s) == {"latin"}]
        consonants = {
            k.letters for name in latin for k in skeletons(name).whole if distinctive(k, main=False)
        }
        return cls(frozenset(arabic), frozenset(normalise(n) for n in latin), frozenset(consonants))

    def named(self, node: OsmPlace) -> bool:
        """Whether the node names the place (the module's rules)."""
        if node.arabic and normalise(node.arabic) in self.arabic:
            return True
        if not node.latin:
            return False
        return normalise(node.latin) in self.latin or any(
            k.letters in self.consonants for k in skeletons(node.latin).whole
        )
