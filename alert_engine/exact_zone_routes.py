"""``GET /v1/alerts/{alert_id}/exact-zone``: the zone on the national territory, before it was
fitted into the polygon partners received, as GeoJSON — what the console draws beside the
sent polygon so that a reviewer sees the overshoot."""

from __future__ import annotations

from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Request
from shapely.geometry.base import BaseGeometry
from starlette.concurrency import run_in_threadpool

from alert_engine.alert_picture import rebuild_zone
from alert_engine.composer import geojson_geometry
from alert_engine.dependencies import Alerts, VersionSequence
from alert_engine.map_routes import map_sources
from alert_engine.routes import GEOJSON, GeoJSONResponse
from alert_engine.service import locations_of
from shared.auth import Principal, require_scope
from shared.entity_ids import EntityId
from shared.problem_schema import AUTHENTICATED, problem_responses

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require_scope("alerts:read")]

EXACT_ZONE_EXAMPLE: dict[str, Any] = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[-7.6, 33.5], [-7.5, 33.5], [-7.5, 33.6], [-7.6, 33.6], [-7.6, 33.5]]],
    },
    "properties": {"alert_id": "9b2f…", "sequence": 1, "from_circles": False},
}


@router.get(
    "/{alert_id}/exact-zone",
    response_class=GeoJSONResponse,
    responses={
        200: {
            "description": "The exact zone as a GeoJSON Feature.",
            "content": {GEOJSON: {"schema": {"type": "object"}, "example": EXACT_ZONE_EXAMPLE}},
        },
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
    operation_id="alerts_exact_zone",
    summary="The alert's exact zone as GeoJSON",
)
async def read_exact_zone(
    alert_id: EntityId,
    request: Request,
    _: Reader,
    alerts: Alerts,
    sequence: VersionSequence = None,
) -> GeoJSONResponse:
    """One version's exact zone (the current one by default, or `sequence`): the union of
    its locations' reach clipped to the national territory, unsimplified — the area the sent
    polygon covers with at most its vertex budget. `from_circles` is true when the zone
    settings changed since and the zone is drawn from the version's stored circles instead.

    **Scope:** `alerts:read`. **Events:** none.
    """
    shown = await alerts.shown_version(alert_id, sequence)
    alert, message, computed_at = shown.alert, shown.message, shown.zone_computed_at
    locations = locations_of(alert)
    policy = map_sources(request).policy

    def rebuild() -> dict[str, Any]:
        zone = rebuild_zone(message, locations, alert.travel_mode, policy(), computed_at)
        return {
            "type": "Feature",
            "geometry": geojson_geometry(to_centimetres(zone.exact)),
            "properties": {
                "alert_id": alert.id,
                "sequence": message.sequence,
                "from_circles": zone.from_circles,
            },
        }

    return GeoJSONResponse(await run_in_threadpool(rebuild))


def to_centimetres(geometry: BaseGeometry) -> BaseGeometry:
    """Coordinates to 7 decimals (about a centimetre, far finer than the sent polygon's 6):
    full floating precision only doubles the document (RFC 7946 §11.2). Snap-rounded, so the
    result stays valid: a sliver or a hole narrower than that collapses and is left out."""
    return shapely.set_precision(geometry, 1e-7)
