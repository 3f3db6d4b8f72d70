"""Read-only alert endpoints: the current version, its history and its zone."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alert_engine.cap import CAP_MEDIA_TYPE, to_cap_xml
from alert_engine.models import Alert, AlertVersion
from alert_engine.schemas import AlertOut, AlertPage, VersionSummary
from shared.alert_contract import AlertMessage
from shared.auth import Principal, require_scope
from shared.problems import Problem
from shared.web import db_session

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Session = Annotated[AsyncSession, Depends(db_session)]
Reader = Annotated[Principal, require_scope("alerts:read")]
GEOJSON = "application/geo+json"


async def _versions(session: AsyncSession, alert_id: str) -> list[AlertVersion]:
    return list(
        (
            await session.scalars(
                select(AlertVersion)
                .where(AlertVersion.alert_id == alert_id)
                .order_by(AlertVersion.sequence)
            )
        ).all()
    )


async def _alert_out(session: AsyncSession, alert: Alert) -> AlertOut:
    versions = await _versions(session, alert.id)
    return AlertOut(
        id=alert.id,
        report_id=alert.report_id,
        state=alert.state,
        sequence=alert.sequence,
        effective=alert.effective,
        expires=alert.expires,
        radius_km=alert.radius_km,
        current=AlertMessage.model_validate_json(versions[-1].payload),
        history=[
            VersionSummary(
                sequence=v.sequence,
                msg_type=v.msg_type,
                identifier=v.identifier,
                sent=v.sent,
            )
            for v in versions
        ],
    )


async def _load(session: AsyncSession, alert_id: str) -> Alert:
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise Problem(404, "Not found", f"No alert {alert_id}.")
    return alert


@router.get("", response_model=AlertPage)
async def list_alerts(
    session: Session,
    _: Reader,
    state: Literal["active", "cancelled", "expired"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AlertPage:
    query = select(Alert).order_by(Alert.effective.desc(), Alert.id).limit(limit + 1).offset(offset)
    if state is not None:
        query = query.where(Alert.state == state)
    rows = (await session.scalars(query)).all()
    return AlertPage(
        items=[await _alert_out(session, a) for a in rows[:limit]],
        next_offset=offset + limit if len(rows) > limit else None,
    )


@router.get("/{alert_id}", response_model=AlertOut)
async def read_alert(alert_id: str, session: Session, _: Reader) -> AlertOut:
    return await _alert_out(session, await _load(session, alert_id))


@router.get(
    "/{alert_id}/zone", response_class=JSONResponse, responses={200: {"content": {GEOJSON: {}}}}
)
async def read_zone(alert_id: str, session: Session, _: Reader) -> JSONResponse:
    """The current zone as an RFC 7946 Feature (lon/lat, counter-clockwise exterior ring)."""
    alert = await _load(session, alert_id)
    current = AlertMessage.model_validate_json((await _versions(session, alert.id))[-1].payload)
    area = current.area
    feature: dict[str, Any] = {
        "type": "Feature",
        "id": alert.id,
        "geometry": area.geojson,
        "properties": {
            "alert_id": alert.id,
            "sequence": current.sequence,
            "msg_type": current.msg_type,
            "state": alert.state,
            "center": [area.circle.center.lon, area.circle.center.lat],
            "radius_km": area.circle.radius_km,
            "circles": [
                {"center": [c.center.lon, c.center.lat], "radius_km": c.radius_km}
                for c in area.circles or [area.circle]
            ],
            "effective": current.effective.isoformat(),
            "expires": current.expires.isoformat(),
            "vertex_count": area.vertex_count,
            "overshoot_land_m": area.overshoot_land_m,
            "overshoot_sea_m": area.overshoot_sea_m,
            "geocodes": area.geocodes,
            "geocode_shares": [g.model_dump() for g in area.geocode_shares],
            "targeting": area.targeting,
        },
    }
    return JSONResponse(feature, media_type=GEOJSON)


@router.get(
    "/{alert_id}/cap",
    response_class=Response,
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}, "description": "OASIS CAP 1.2 XML"}},
)
async def read_cap(
    alert_id: str,
    session: Session,
    _: Reader,
    sequence: Annotated[int | None, Query(ge=1, description="A given version")] = None,
) -> Response:
    """One version of the alert (the current one by default) as OASIS CAP 1.2 XML."""
    alert = await _load(session, alert_id)
    wanted = sequence or alert.sequence
    version = await session.get(AlertVersion, (alert.id, wanted))
    if version is None:
        raise Problem(404, "Not found", f"Alert {alert_id} has no version {wanted}.")
    message = AlertMessage.model_validate_json(version.payload)
    return Response(to_cap_xml(message), media_type=CAP_MEDIA_TYPE)
