"""Composing each CAP-shaped alert version from what the engine knows: pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from alert_engine.footprint import footprint_of, sendable, vertex_count
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import (
    Piece,
    heading_of,
    newest_first,
    pieces_at,
)
from alert_engine.prepared_zones import ClippedZone, PreparedZones
from alert_engine.texts import CaseFacts, alert_info, area_descriptions, cancel_info
from alert_engine.unclipped import cover_of
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import (
    AlertMessage,
    Area,
    Circle,
    GeocodeShare,
    Language,
    LastSeen,
    MessageStatus,
    MsgType,
    TravelMode,
)
from shared.events import ZoneInputs


@dataclass(frozen=True)
class CaseState:
    alert_id: str
    report_id: str
    message_status: MessageStatus
    facts: CaseFacts
    photo_urls: list[str]
    # Every trusted location kept for the case; the zone takes those within the horizon.
    locations: tuple[TrustedLocation, ...]
    travel_mode: TravelMode
    effective: datetime
    expires: datetime

    @property
    def newest(self) -> TrustedLocation:
        """The most recent trusted location: the zone's centre, the alert's "last seen"."""
        return newest_first(self.locations)[0]


@dataclass(frozen=True)
class Presentation:
    sender: str
    timezone: str
    # How long a take-down stays valid once sent: as long as the dispatcher retries it.
    # Consumers commonly drop a message whose ``expires`` has passed before they look at what
    # it is: a Cancel that expired when it was sent would be dropped, and the alert it takes
    # down left up. (One delivered later still, after a partner's long outage or a replay,
    # is to be acted on all the same: the partners' contract says so.)
    take_down_valid: timedelta = timedelta(hours=72)


def cap_identifier(alert_id: str, sequence: int) -> str:
    """The CAP identifier of the alert's version ``sequence``: one per message, never reused."""
    # CAP: every message has its own identifier; Updates and Cancels reference earlier ones.
    return f"urn:tifli:alert:{alert_id}:{sequence}"


def version_reference(sender: str, identifier: str, sent: datetime) -> str:
    """How an Update or Cancel names an earlier version: ``sender,identifier,sent``, the time
    written as the JSON's own ``sent`` is (UTC, "Z"), so a partner can match the two."""
    return f"{sender},{identifier},{sent.astimezone(UTC).isoformat().replace('+00:00', 'Z')}"


def zone_at(case: CaseState, policy: ZonePolicy, at: datetime) -> list[Piece]:
    """The zone's pieces at ``at``, the newest location's first."""
    return pieces_at(case.locations, case.travel_mode, policy, at)


def area_of(
    pieces: Sequence[Piece],
    place: str | None,
    policy: ZonePolicy | None = None,
    drawn: ClippedZone | None = None,
    place_names: Mapping[Language, str] | None = None,
) -> Area:
    """The alert's area: the footprint of the pieces' union on the policy's territory, else a
    covering polygon of the whole union. The newest location's piece comes first. ``drawn``
    is the pieces' ``clipped_zone`` if it was drawn already (``PreparedZones``)."""
    newest = pieces[0]
    point = f"{newest.center.lat:.4f},{newest.center.lon:.4f}"
    descriptions = area_descriptions(place, place_names or {}, newest.reach_km, point)
    description = place or descriptions["en"]
    # CAP consumers union circles with the polygon, so each circle must lie inside the zone:
    # the whole disk for a disk piece, the disk of the corridor's half-width for a corridor.
    circles = [Circle(center=p.center, radius_km=round(p.side_km, 3)) for p in pieces]
    settings = policy if policy is not None else ZonePolicy()
    budget, max_polygons = settings.vertex_budget, settings.max_polygons
    if policy is not None and policy.territory is not None:
        clipped = drawn or clipped_zone(pieces, policy)
        if clipped.parts:  # a zone entirely off the territory is sent whole
            touched = clipped.geocodes
            geocodes = [g.code for g in touched]
            return Area(
                description=description,
                descriptions=descriptions,
                geojson=geojson_parts(clipped.parts),
                circle=circles[0],
                circles=circles,
                # Regions first, then provinces: Territory.geocodes keeps that order.
                geocodes=geocodes,
                geocode_shares=[
                    GeocodeShare(
                        code=g.code,
                        kind=g.kind,
                        name_ar=g.names["ar"],
                        name_fr=g.names["fr"],
                        share=round(g.share, 4),
                    )
                    for g in touched
                ],
                vertex_count=clipped.vertex_count,
                overshoot_land_m=round(clipped.overshoot_land_m, 1),
                overshoot_sea_m=round(clipped.overshoot_sea_m, 1),
                targeting="polygon" if clipped.meets_wea_rule or not geocodes else "geocodes",
            )
    cover = cover_of(pieces, budget)
    # A union of disks can enclose a hole: cut it like an enclave (the cover stays the same
    # region, so its overshoot bound holds).
    parts = sendable(cover.polygon, max_polygons)
    return Area(
        description=description,
        descriptions=descriptions,
        geojson=geojson_parts(parts),
        circle=circles[0],
        circles=circles,
        # Without a land mask every metre of overshoot is counted as land: an upper bound.
        vertex_count=sum(vertex_count(p) for p in parts),
        overshoot_land_m=round(cover.overshoot_m, 1),
        overshoot_sea_m=0.0,
    )


def clipped_zone(pieces: Sequence[Piece], policy: ZonePolicy) -> ClippedZone:
    """The pieces' union as sent on the policy's territory (which must be set), with the
    areas it touches: the costly part of an area, and all of it that ``prepared`` keeps."""
    if policy.territory is None:
        raise ValueError("a clipped zone needs the policy's territory")
    polygons = [p.polygon for p in pieces]
    territory = policy.territory
    with territory.drawing:  # one zone at a time on a territory (``Territory.drawing``)
        sent = footprint_of(polygons, territory, policy.vertex_budget, policy.max_polygons)
        touched = (
            []
            if sent.exact.is_empty
            else territory.geocodes(sent.exact, sent.zone, convex=len(polygons) == 1)
        )
    return ClippedZone.of(sent, touched)


def prepare_zone(
    prepared: PreparedZones, inputs: ZoneInputs, policy: ZonePolicy, at: datetime
) -> bool:
    """Draw into ``prepared`` the zone a report submitted with ``inputs`` gets if approved
    soon after ``at``; whether one was drawn now. Only while the radius is the policy's floor
    (and on a territory: else there is little to draw): later it grows by the minute, and the
    approval's zone would not be this one."""
    if policy.territory is None:
        return False
    location = TrustedLocation(
        point=inputs.point,
        at=inputs.at,
        heading_deg=inputs.heading_deg,
        destination=inputs.destination,
    )
    pieces = pieces_at([location], inputs.travel_mode, policy, at)
    polygons = [p.polygon for p in pieces]
    if pieces[0].reach_km > policy.floor_km or polygons in prepared:
        return False
    prepared.put(polygons, clipped_zone(pieces, policy))
    return True


def geojson_parts(parts: Sequence[shapely.Polygon]) -> dict[str, Any]:
    """The sent parts as one RFC 7946 geometry: a Polygon if there is one, else a
    MultiPolygon with a member per part, as CAP gets a ``<polygon>`` per part.

    Parts cut around an enclave share the edges of the cut, which OGC simple features do
    not allow inside a MultiPolygon (RFC 7946 sets no such rule); a consumer that needs an
    OGC-valid geometry unions the members, which gives back the region exactly."""
    if len(parts) == 1:
        return geojson_geometry(parts[0])
    return geojson_geometry(shapely.MultiPolygon(list(parts)))


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
    """The version partners receive: the case as it stands, the area sent, and for a Cancel no child
    data."""
    cancelled = msg_type == "Cancel"
    facts = case.facts
    newest = case.newest
    heading = heading_of(newest)
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
        expires=max(case.expires, sent + presentation.take_down_valid)
        if cancelled
        else case.expires,
        urgency="Past" if cancelled else "Immediate",
        info=cancel_info(status=case.message_status)
        if cancelled
        else alert_info(facts, presentation.timezone, status=case.message_status),
        child=None if cancelled else facts.child,
        last_seen=None
        if cancelled
        else LastSeen(
            place=newest.place,
            point=newest.point,
            time=newest.at,
            heading_deg=None if heading is None else round(heading, 1) % 360.0,
        ),
        suspected_vehicle=None if cancelled else facts.suspected_vehicle,
        companion=None if cancelled else facts.companion,
        contact="19",
        photo_urls=[] if cancelled else case.photo_urls,
        area=area,
    )
