"""Place names → points at intake.

A report or sighting may name a town instead of giving coordinates. The name is resolved here,
at submission, because this is where a 422 can still reach the officer: an unknown or ambiguous
name is refused with the candidates, never guessed. The resolved point is stored as the report's
location, so everything downstream (the approved event, the alert engine) gets a point.
"""

from __future__ import annotations

from typing import Any

from intake_api.gazetteer import REGIONS, AmbiguousPlace, Gazetteer, Place, UnknownPlace
from shared.alert_contract import Point
from shared.problems import Problem


def resolve_place(gazetteer: Gazetteer, place_name: str, field: str) -> Point:
    """The point ``place_name`` designates, or a 422 naming ``field`` and listing candidates.

    The message does not echo the name back (input values are never echoed in errors)."""
    try:
        place = gazetteer.lookup(place_name)
    except UnknownPlace as unknown:
        message = "no Moroccan place of this name in the gazetteer; " + (
            "send location (lat, lon), or one of the candidates' names if one is meant"
            if unknown.near
            else "check the spelling (Arabic or French) or send location (lat, lon)"
        )
        raise _place_problem(field, message, unknown.near) from None
    except AmbiguousPlace as ambiguous:
        message = (
            f"names {len(ambiguous.candidates)} places of similar size; send location "
            "(lat, lon), e.g. a candidate's coordinates, or a more specific place name"
        )
        raise _place_problem(field, message, ambiguous.candidates) from None
    return Point(lat=place.lat, lon=place.lon)


def _place_problem(field: str, message: str, candidates: list[Place]) -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
        candidates=[candidate_json(p) for p in candidates],
    )


def candidate_json(place: Place) -> dict[str, Any]:
    """A place offered when a name is ambiguous: its name and its region in French and Arabic, so
    the officer can pick."""
    region = REGIONS.get(place.region)
    return {
        "name": place.name,
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
