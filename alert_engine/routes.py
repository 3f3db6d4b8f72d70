"""Read-only alert endpoints: the current version, its history and its zone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from alert_engine.cap import CAP_MEDIA_TYPE, to_cap_xml
from alert_engine.conditional_get import NOT_MODIFIED, content_etag, matches
from alert_engine.dependencies import Alerts, IfNoneMatch, Signer, VersionSequence
from alert_engine.reads import AlertState
from alert_engine.schemas import AlertOut, AlertPage
from shared.alert_contract import AlertMessage
from shared.alert_example import ALERT_MESSAGE_EXAMPLE
from shared.auth import Principal, require_scope
from shared.entity_ids import EntityId
from shared.paging import Cursor, Limit, Offset
from shared.problem_schema import AUTHENTICATED, problem_responses

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require_scope("alerts:read")]
GEOJSON = "application/geo+json"
# Revalidated each time: the current version moves on, and a version pinned by ``sequence`` is
# signed again under a new key when the signing key is rotated.
CAP_CACHE_CONTROL = "private, no-cache"


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


LIST_ERRORS = problem_responses(*AUTHENTICATED, 422)
READ_ERRORS = problem_responses(*AUTHENTICATED, 404)


def zone_feature(alert_id: str, state: str, current: AlertMessage) -> dict[str, Any]:
    """The zone of an alert's current version as an RFC 7946 Feature."""
    area = current.area
    # Times as every other answer of the API writes them (``…Z``), not ``isoformat``'s +00:00.
    window = current.model_dump(mode="json", include={"effective", "expires"})
    return {
        "type": "Feature",
        "id": alert_id,
        "geometry": area.geojson,
        "properties": {
            "alert_id": alert_id,
            "sequence": current.sequence,
            "msg_type": current.msg_type,
            "state": state,
            "center": [area.circle.center.lon, area.circle.center.lat],
            "radius_km": area.circle.radius_km,
            "circles": [
                {"center": [c.center.lon, c.center.lat], "radius_km": c.radius_km}
                for c in area.circles or [area.circle]
            ],
            "effective": window["effective"],
            "expires": window["expires"],
            "vertex_count": area.vertex_count,
            "overshoot_land_m": area.overshoot_land_m,
            "overshoot_sea_m": area.overshoot_sea_m,
            "geocodes": area.geocodes,
            "geocode_shares": [g.model_dump() for g in area.geocode_shares],
            "targeting": area.targeting,
        },
    }


# The documented responses show the shared example alert, rendered by the code that serves them.
_EXAMPLE = AlertMessage.model_validate(ALERT_MESSAGE_EXAMPLE)
ZONE_EXAMPLE = zone_feature(_EXAMPLE.alert_id, "active", _EXAMPLE)
CAP_EXAMPLE = to_cap_xml(_EXAMPLE).decode()


@router.get(
    "",
    response_model=AlertPage,
    responses=LIST_ERRORS,
    operation_id="alerts_list",
    response_description="One page of alerts.",
    summary="List alerts",
)
async def list_alerts(
    _: Reader,
    alerts: Alerts,
    state: AlertState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = None,
) -> AlertPage:
    """Alerts, most recently effective first, optionally filtered by state; each with its
    current version (the message partners received) and its history. `next_cursor` (or
    `next_offset`) pages on; walk `state=active` by cursor: by offset, alerts ending while
    you read would shift the rest past you.

    **Scope:** `alerts:read`. **Events:** none.
    """
    return await alerts.page(state, limit, offset, cursor)


@router.get(
    "/{alert_id}",
    response_model=AlertOut,
    responses=READ_ERRORS,
    operation_id="alerts_read",
    response_description="The alert, its current version and its history.",
    summary="Read an alert",
)
async def read_alert(alert_id: EntityId, _: Reader, alerts: Alerts) -> AlertOut:
    """The alert's state and window, its current version (exactly what partners received)
    and the list of every version sent (Alert, Updates, Cancel).

    **Scope:** `alerts:read`. **Events:** none.
    """
    return await alerts.get(alert_id)


@router.get(
    "/{alert_id}/zone",
    response_class=GeoJSONResponse,
    responses={
        200: {
            "description": "The zone as a GeoJSON Feature.",
            "content": {GEOJSON: {"schema": {"type": "object"}, "example": ZONE_EXAMPLE}},
        },
        **READ_ERRORS,
    },
    operation_id="alerts_zone",
    summary="The alert's zone as GeoJSON",
)
async def read_zone(alert_id: EntityId, _: Reader, alerts: Alerts) -> GeoJSONResponse:
    """The current zone as an RFC 7946 Feature (lon/lat, counter-clockwise exterior rings):
    the MultiPolygon sent to partners, with its circles, window, vertex count, land and sea
    overshoot in metres, geocodes and what to target by.

    **Scope:** `alerts:read`. **Events:** none.
    """
    alert = await alerts.load(alert_id)
    return GeoJSONResponse(zone_feature(alert.id, alert.state, await alerts.message(alert)))


@router.get(
    "/{alert_id}/cap",
    response_class=Response,
    responses={
        200: {
            "description": "OASIS CAP 1.2 XML.",
            "headers": {
                "ETag": {"description": "Changes with the document.", "schema": {"type": "string"}},
                "Cache-Control": {"description": CAP_CACHE_CONTROL, "schema": {"type": "string"}},
            },
            "content": {CAP_MEDIA_TYPE: {"schema": {"type": "string"}, "example": CAP_EXAMPLE}},
        },
        **NOT_MODIFIED,
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
    operation_id="alerts_cap",
    summary="The alert as CAP 1.2 XML",
)
async def read_cap(
    alert_id: EntityId,
    _: Reader,
    alerts: Alerts,
    signer: Signer,
    sequence: VersionSequence = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """One version of the alert (the current one by default, or `sequence`) as OASIS CAP 1.2
    XML, one `info` block per language and one `polygon` per part of the zone, signed: an
    enveloped XML digital signature (RSA-SHA256) closes `<alert>`; check it with the
    certificate from `GET /v1/cap/certificate`. (The example here is shown unsigned.)

    A CAP client polling it sends back the `ETag` in `If-None-Match` and gets 304 while the
    document is the same: until a new version (without `sequence`), or a new signing key.

    **Scope:** `alerts:read`. **Events:** none.
    """
    document = to_cap_xml(await alerts.message(await alerts.load(alert_id), sequence))
    # The document and the certificate decide the signed bytes: tagged before signing, a
    # client polling for a change gets its 304s without an RSA signature each.
    made_with = (signer.certificate_digest,) if signer is not None else ()
    headers = {"ETag": content_etag(document, *made_with), "Cache-Control": CAP_CACHE_CONTROL}
    if matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    if signer is not None:
        document = signer.sign(document)
    return Response(document, media_type=CAP_MEDIA_TYPE, headers=headers)
