"""``GET /v1/map/place``: where a place name puts a case's point, as the intake would geocode
it at submission: a client shows it before anything is sent (the console's new-case map), so
that an officer sees a name that points at another town of that name, or at none."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from intake_api.gazetteer import load_gazetteer
from intake_api.places import candidate_json, place_named
from shared.auth import Principal, current_principal
from shared.problem_schema import AUTHENTICATED, PlaceCandidate, problem_responses

router = APIRouter(tags=["reports"])

_EXAMPLE = {
    "name": "Fes",
    "name_fr": "Fès",
    "name_ar": "فاس",
    "region": {"code": "MA-03", "fr": "Fès-Meknès", "ar": "فاس-مكناس"},
    "lat": 34.0331,
    "lon": -5.0003,
    "population": 1191905,
    "geonames_id": 2548885,
}


@router.get(
    "/v1/map/place",
    response_model=PlaceCandidate,
    responses={
        200: {"content": {"application/json": {"example": _EXAMPLE}}},
        **problem_responses(*AUTHENTICATED, 422),
    },
    operation_id="reports_place",
    summary="Where a place name puts a point",
)
async def read_place(
    _: Annotated[Principal, Depends(current_principal)],
    name: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            description="A Moroccan town, as `last_seen.place_name` takes it (Arabic or "
            "French spelling, its region after it if need be).",
            examples=["Fès"],
        ),
    ],
) -> PlaceCandidate:
    """The place `name` designates, with its point: the one a report or a sighting giving
    that name without a location is placed at. An unknown name, or one of several places of
    similar size, is the 422 a submission would get, naming the field `name` and listing the
    candidates. The gazetteer is the shipped one: the answer changes only with a release.

    **Scope:** any (the gazetteer holds no case data). **Events:** none.
    """
    place = place_named(load_gazetteer(), name.strip(), "name")
    return PlaceCandidate.model_validate(candidate_json(place))
