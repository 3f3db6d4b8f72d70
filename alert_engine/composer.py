"""Composing each CAP-shaped alert version from what the engine knows: pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from alert_engine.footprint import footprint
from alert_engine.texts import CaseFacts, alert_info, cancel_info
from alert_engine.zones import Zone, ZonePolicy, geodesic_disk, radius_km
from shared.alert_contract import (
    AlertMessage,
    Area,
    Circle,
    LastSeen,
    MessageStatus,
    MsgType,
    Point,
    TravelMode,
)


@dataclass(frozen=True)
class CaseState:
    alert_id: str
    report_id: str
    message_status: MessageStatus
    facts: CaseFacts
    photo_urls: list[str]
    center: Point
    center_at: datetime  # when the child was at ``center``: the radius grows from then
    travel_mode: TravelMode
    effective: datetime
    expires: datetime


@dataclass(frozen=True)
class Presentation:
    sender: str
    timezone: str


def cap_identifier(alert_id: str, sequence: int) -> str:
    # CAP: every message has its own identifier; Updates and Cancels reference earlier ones.
    return f"urn:tifli:alert:{alert_id}:{sequence}"


def cap_reference(sender: str, identifier: str, sent: datetime) -> str:
    return f"{sender},{identifier},{sent.isoformat()}"


def zone_at(case: CaseState, policy: ZonePolicy, at: datetime) -> Zone:
    radius = radius_km(policy, case.travel_mode, case.center_at, at)
    return geodesic_disk(case.center, radius, policy.vertex_budget)


def area_of(zone: Zone, place: str | None, policy: ZonePolicy | None = None) -> Area:
    """The alert's area: the footprint on the policy's territory, else the whole disk."""
    description = (
        place or f"{zone.radius_km:.0f} km around {zone.center.lat:.4f},{zone.center.lon:.4f}"
    )
    circle = Circle(center=zone.center, radius_km=round(zone.radius_km, 3))
    if policy is not None and policy.territory is not None:
        sent = footprint(zone.center, zone.radius_km, policy.territory, policy.vertex_budget)
        if not sent.exact.is_empty:  # a disk entirely off the territory is sent whole
            return Area(
                description=description,
                geojson=geojson_geometry(sent.polygon),
                circle=circle,
                # Regions first, then provinces: Territory.geocodes keeps that order.
                geocodes=[g.code for g in policy.territory.geocodes(sent.exact)],
                vertex_count=sent.vertex_count,
                overshoot_land_m=round(sent.overshoot_land_m, 1),
                overshoot_sea_m=round(sent.overshoot_sea_m, 1),
            )
    return Area(
        description=description,
        geojson=zone.geojson_geometry(),
        circle=circle,
        # Without a land mask every metre of overshoot is counted as land: an upper bound.
        vertex_count=zone.vertex_count,
        overshoot_land_m=round(zone.overshoot_m, 1),
        overshoot_sea_m=0.0,
    )


def geojson_geometry(geometry: BaseGeometry) -> dict[str, Any]:
    """RFC 7946 geometry: lon/lat, counter-clockwise exteriors (clockwise holes)."""
    parts = [orient(p, sign=1.0) for p in shapely.get_parts(geometry)]
    rings = [[[list(c) for c in ring.coords] for ring in (p.exterior, *p.interiors)] for p in parts]
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings[0]}
    return {"type": "MultiPolygon", "coordinates": rings}


def compose(
    case: CaseState,
    *,
    area: Area,
    sequence: int,
    msg_type: MsgType,
    references: list[str],
    sent: datetime,
    presentation: Presentation,
) -> AlertMessage:
    cancelled = msg_type == "Cancel"
    facts = case.facts
    return AlertMessage(
        identifier=cap_identifier(case.alert_id, sequence),
        alert_id=case.alert_id,
        report_id=case.report_id,
        sequence=sequence,
        msg_type=msg_type,
        references=references,
        status=case.message_status,
        sender=presentation.sender,
        sent=sent,
        effective=case.effective,
        expires=min(case.expires, sent) if cancelled else case.expires,
        urgency="Past" if cancelled else "Immediate",
        info=cancel_info() if cancelled else alert_info(facts, presentation.timezone),
        child=None if cancelled else facts.child,
        last_seen=None
        if cancelled
        else LastSeen(place=facts.place, point=case.center, time=case.center_at),
        suspected_vehicle=None if cancelled else facts.suspected_vehicle,
        companion=None if cancelled else facts.companion,
        contact="19",
        photo_urls=[] if cancelled else case.photo_urls,
        area=area,
    )
