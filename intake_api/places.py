"""Place names → points at intake.

A report or sighting may name a town instead of giving coordinates. The name is resolved here,
at submission, because this is where a 422 can still reach the officer: an unknown or ambiguous
name is refused with the candidates, never guessed. The resolved point is stored as the report's
location, so everything downstream (the approved event, the alert engine) gets a point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from intake_api.gazetteer import (
    REGIONS,
    AmbiguousPlace,
    Gazetteer,
    Place,
    UnknownPlace,
    designated,
    without_region,
)
from shared.alert_contract import LANGUAGES, Language, Point
from shared.problems import Problem

# How far from the point a named town may be and still be named in the public texts: the
# extent of a large city, where the point given may lie far from the town's own coordinates.
NEAR_KM = 30.0


def resolve_place(gazetteer: Gazetteer, place_name: str, field: str) -> Point:
    """The point ``place_name`` designates, or a 422 naming ``field`` and listing candidates.

    The message does not echo the name back (input values are never echoed in errors)."""
    place = place_named(gazetteer, place_name, field)
    return Point(lat=place.lat, lon=place.lon)


def place_named(gazetteer: Gazetteer, place_name: str, field: str) -> Place:
    """The place ``place_name`` designates, or ``resolve_place``'s 422."""
    try:
        return gazetteer.lookup(place_name)
    except UnknownPlace as unknown:
        message = "no Moroccan place of this name in the gazetteer; " + (
            "send location (lat, lon), or one of the candidates' names if one is meant"
            if unknown.near
            else "check the spelling (Arabic or French) or send location (lat, lon)"
        )
        raise _place_problem(field, message, unknown.near) from None
    except AmbiguousPlace as ambiguous:
        first = ambiguous.candidates[0]
        message = (
            f"names {len(ambiguous.candidates)} places of similar size; send location "
            "(lat, lon), e.g. a candidate's coordinates, or the name with its region after it "
            f"(as in '{first.name} ({first.region})')"
        )
        raise _place_problem(field, message, ambiguous.candidates) from None


def _place_problem(field: str, message: str, candidates: list[Place]) -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
        candidates=[candidate_json(p) for p in candidates],
    )


def candidate_json(place: Place) -> dict[str, Any]:
    """A place offered when a name is unknown or ambiguous: its name (GeoNames'), its names in
    French and Arabic (each known spelling finds it), and its region in both, so the officer
    can pick, in the script they typed in."""
    region = REGIONS.get(place.region)
    return {
        "name": place.name,
        "name_fr": place.fr or place.name,
        "name_ar": place.ar,
        "region": {
            "code": place.region,
            "fr": region.fr if region else None,
            "ar": region.ar if region else None,
        },
        "lat": place.lat,
        "lon": place.lon,
        "population": place.population,
        "geonames_id": place.id,
    }


def public_place(
    gazetteer: Gazetteer, typed: str | None, point: Point
) -> tuple[str | None, dict[Language, str] | None]:
    """What the public texts call the place at ``point`` an officer named ``typed`` (or did
    not name: ``None``).

    That name, in each language's own spelling, if it designates a town near the point (or
    names several, one of them near it); else the largest town near the point (the one
    readers know: a hamlet beside a city may share a better-known town's name); else nothing
    (the texts say the place is not given). A name given beside a point is not geocoded, so
    it is not checked at submission: an unknown name ("Atlantis"), or a town far from the
    point, must not reach partners. A point given alone is named the same way: readers know
    "Casablanca", not its coordinates. A town that shares its name is told apart by its
    region (``told_apart``)."""
    distances = gazetteer.distances_km(point.lat, point.lon)
    named = _named_near(gazetteer, typed, distances) if typed is not None else None
    if typed is not None and named is not None:
        spelt = without_region(typed)  # told apart below by the region's name, not its code
        return spelt, told_apart(
            gazetteer, named, spelt, gazetteer.names_in_languages(named, spelt)
        )
    near = [i for i in range(len(gazetteer.places)) if distances[i] <= NEAR_KM]
    if not near:
        return None, None
    place = gazetteer.places[
        max(near, key=lambda i: (gazetteer.places[i].population, -distances[i]))
    ]
    shown = place.fr or place.name
    return shown, told_apart(gazetteer, place, shown, gazetteer.names_in_languages(place))


def _named_near(
    gazetteer: Gazetteer, typed: str, distances_km: npt.NDArray[np.float64]
) -> Place | None:
    """The place ``typed`` designates, or the nearest of the namesakes it asks between (the
    point tells which one the officer meant), if it lies within ``NEAR_KM`` of the point."""
    if not gazetteer.knows(typed):
        return None  # not a place: no search for close spellings
    try:
        candidates = [gazetteer.lookup(typed)]
    except AmbiguousPlace as ambiguous:
        candidates = ambiguous.candidates
    except UnknownPlace:
        return None  # a known name said with another region

    def away(place: Place) -> float:
        return float(distances_km[gazetteer.places.index(place)])

    nearest = min(candidates, key=away)
    return nearest if away(nearest) <= NEAR_KM else None


def told_apart(
    gazetteer: Gazetteer, place: Place, shown: str, names: dict[Language, str]
) -> dict[Language, str]:
    """``names`` (``shown`` for a language without one), each with the place's region after
    it where the name alone would not find this place: it asks between namesakes, or finds a
    larger town. Readers near Azilal told only "Ifrane" think of the town near Fès. The form
    is the one a lookup takes back, "Ifrane (Béni Mellal-Khénifra)", with the region named in
    the text's language (in French where it has no name of its own, as the place)."""
    region = REGIONS.get(place.region)
    if region is None:
        return names
    told = dict(names)
    for language in LANGUAGES:
        name = names.get(language, shown)
        if designated(gazetteer, name) is not place:
            told[language] = f"{name} ({region.ar if language == 'ar' else region.fr})"
    return told
