"""``GET /v1/map/service-area``: where a report's or a sighting's point may lie, as the intake
checks it, and the words it refuses a point outside with: a client draws the area where the
point is placed (the console's new-case map), so an officer sees it before anything is sent."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from shapely.geometry import mapping

from intake_api.dependencies import service_area_of
from intake_api.service_area import ServiceArea
from shared.auth import Principal, current_principal
from shared.problem_schema import AUTHENTICATED, problem_responses
from shared.web import Context

GEOJSON = "application/geo+json"
# The area changes only with the settings, that is with a restart.
CACHE_CONTROL = "private, max-age=86400"

router = APIRouter(tags=["reports"])

_EXAMPLE: dict[str, Any] = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[-9.9, 29.1], [-1.0, 32.0], [-1.6, 35.9], [-6.2, 36.0], [-9.9, 29.1]]],
    },
    "properties": {
        "refusal": "outside the service area (the territory and about 50 km around it, "
        "longitude -17.6 to -0.5, latitude 20.3 to 36.4); check that lat and lon are not swapped"
    },
}


def area_feature(area: ServiceArea) -> dict[str, Any]:
    """The area as an RFC 7946 Feature, with the refusal a point outside it gets."""
    return {
        "type": "Feature",
        "geometry": mapping(area.outline()),
        "properties": {"refusal": area.refusal()},
    }


@router.get(
    "/v1/map/service-area",
    response_class=Response,
    responses={
        200: {
            "description": "The service area as a GeoJSON Feature.",
            "headers": {
                "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}}
            },
            "content": {GEOJSON: {"schema": {"type": "object"}, "example": _EXAMPLE}},
        },
        **problem_responses(*AUTHENTICATED),
    },
    operation_id="reports_service_area",
    summary="Where a case's points may lie",
)
async def read_service_area(
    _: Annotated[Principal, Depends(current_principal)], context: Context
) -> Response:
    """Where a report's last-seen point, a destination and a sighting may lie, as an RFC 7946
    Feature (lon/lat): the territory and about 50 km around it (`TIFLI_SERVICE_AREA_FILE`),
    within the box `TIFLI_SERVICE_AREA`. A point outside is a 422 naming its field; the
    Feature's `properties.refusal` is that 422's message. The same for every caller until the
    service restarts with other settings.

    **Scope:** any (the area holds no case data). **Events:** none.
    """
    body = json.dumps(area_feature(service_area_of(context.settings)), separators=(",", ":"))
    return Response(body, media_type=GEOJSON, headers={"Cache-Control": CACHE_CONTROL})
