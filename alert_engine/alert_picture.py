"""One alert version as a map: the layers partners' zone is made of, over the base map, as
SVG. Pure, no I/O: the stored version, the case's trusted locations and the policy come in.

A version stores what partners received (the sent polygon, one circle per trusted location,
the overshoot); the exact zone and the heading corridors are rebuilt from the trusted
locations whose circles the version holds, at the time its zone was computed, with the
engine's own code. If the rebuilt pieces do not give the stored circles back (the zone
settings changed since), the circles alone stand for the zone, and the picture says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from alert_engine.base_map import BaseLayer, BaseMap
from alert_engine.footprint import polygonal
from alert_engine.geodesy import geodesic_disk
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import Piece, disk_piece, pieces_at
from alert_engine.svg_map import Layer, Marker, frame_around, svg_picture
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import AlertMessage, Circle, TravelMode

SENT = "#c8553d"
_REPORT = Marker(0, 0, "last seen (report)", fill="#1f3b73", kind="last-seen")
_SIGHTING = Marker(0, 0, "trusted sighting", fill="#e0a100", kind="sighting")


@dataclass(frozen=True)
class RebuiltZone:
    pieces: tuple[Piece, ...]  # newest location's first, as the version's circles
    locations: tuple[TrustedLocation | None, ...]  # each piece's location; None: unknown
    exact: BaseGeometry  # the pieces' union on the territory
    from_circles: bool  # the pieces could not be rebuilt: disks of the stored circles


def _circles(message: AlertMessage) -> list[Circle]:
    return list(message.area.circles) or [message.area.circle]


def rebuild_zone(
    message: AlertMessage,
    locations: Sequence[TrustedLocation],
    mode: TravelMode,
    policy: ZonePolicy,
    computed_at: datetime,
) -> RebuiltZone:
    """The pieces of ``message``'s zone, as computed at ``computed_at`` (the version's
    ``sent``; for a Cancel, that of the version whose area it repeats)."""
    circles = _circles(message)
    centres = {(c.center.lat, c.center.lon) for c in circles}
    held = [loc for loc in locations if (loc.point.lat, loc.point.lon) in centres]
    pieces: list[Piece] = []
    if held:
        pieces = pieces_at(held, mode, policy, computed_at)
    rebuilt = [(p.center, round(p.side_km, 3)) for p in pieces]
    from_circles = rebuilt != [(c.center, c.radius_km) for c in circles]
    if from_circles:
        pieces = [disk_piece(c.center, c.radius_km) for c in circles]
    by_point = {(loc.point.lat, loc.point.lon): loc for loc in held}
    zone = shapely.union_all([p.polygon for p in pieces])
    territory = policy.territory
    exact = zone if territory is None else polygonal(territory.clip(zone))
    return RebuiltZone(
        pieces=tuple(pieces),
        locations=tuple(by_point.get((p.center.lat, p.center.lon)) for p in pieces),
        exact=exact,
        from_circles=from_circles,
    )


def _base_layers(base: BaseMap | None) -> list[Layer]:
    layers = [Layer("sea", shapely.Polygon(), fill="#dcecf7", key="sea-legend")]
    if base is None:
        return layers

    def merged(kind: BaseLayer) -> BaseGeometry:
        areas = base.layer(kind)
        if not areas:
            return shapely.Polygon()
        return shapely.multipolygons(shapely.get_parts([a.geometry for a in areas]))

    return [
        *layers,
        Layer(
            "foreign land",
            merged("foreign"),
            fill="#e4e0d8",
            stroke="#b3ab9c",
            stroke_width=0.5,
            key="foreign-land",
        ),
        Layer(
            "provinces",
            merged("province"),
            fill="#f6f1e1",
            stroke="#cfc5aa",
            stroke_width=0.5,
            key="provinces",
        ),
        Layer("regions", merged("region"), stroke="#8d8266", stroke_width=1.2, key="regions"),
    ]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _location_label(location: TrustedLocation | None, newest: bool) -> str:
    if location is None:
        return "location" + (" (newest)" if newest else "")
    place = location.place or f"{location.point.lat:.4f}, {location.point.lon:.4f}"
    return f"{place} · {location.at.strftime('%H:%M')} UTC"


def version_svg(message: AlertMessage, zone: RebuiltZone, base: BaseMap | None) -> str:
    """The version as SVG: base map, exact zone, sent polygon(s), circles, corridors and the
    trusted locations, labelled with the place, the version, its type and time window."""
    sent = shape(message.area.geojson)
    circles = shapely.union_all(
        [geodesic_disk(c.center, c.radius_km * 1000.0).polygon for c in _circles(message)]
    )
    corridors = [p.polygon for p in zone.pieces if not p.is_disk]
    markers = _location_markers(zone)
    kinds = {m.kind for m in markers}
    title = f"{message.area.description} · version {message.sequence} ({message.msg_type})"
    if message.status != "Actual":
        title = f"{message.status.upper()} · {title}"
    return svg_picture(
        [*_base_layers(base), *_zone_layers(zone, sent, circles, corridors)],
        frame_around(shapely.union_all([sent, circles, *corridors])),
        title=title,
        notes=_notes(message, zone.from_circles),
        markers=markers,
        legend_markers=[m for m in (_REPORT, _SIGHTING) if m.kind in kinds],
    )


def _zone_layers(
    zone: RebuiltZone,
    sent: BaseGeometry,
    circles: BaseGeometry,
    corridors: list[shapely.Polygon],
) -> list[Layer]:
    layers = [
        Layer(
            "exact zone (on the territory)",
            zone.exact,
            fill="#f6c85f",
            fill_opacity=0.6,
            stroke="#b7892a",
            stroke_width=0.8,
            key="exact-zone",
        ),
        Layer(
            "sent polygon(s)",
            sent,
            fill=SENT,
            fill_opacity=0.22,
            stroke="#8c2f1b",
            stroke_width=1.6,
            key="sent-polygon",
            every_vertex=True,
        ),
        Layer(
            "circle per trusted location",
            circles,
            stroke="#1f3b73",
            stroke_width=1.1,
            dash="6 3",
            key="circles",
        ),
    ]
    if corridors:
        headings = [
            shapely.LineString([(p.center.lon, p.center.lat), (p.far.lon, p.far.lat)])
            for p in zone.pieces
            if p.far is not None
        ]
        layers.append(
            Layer(
                "heading corridor",
                # Outlines and the line along the heading (inside a filled corridor it would
                # be lost in a union of areas).
                shapely.union_all([*(c.boundary for c in corridors), *headings]),
                stroke="#6a1b9a",
                stroke_width=1.4,
                dash="2 3",
                key="heading-corridor",
            )
        )
    return layers


def _location_markers(zone: RebuiltZone) -> list[Marker]:
    markers = []
    for k, (piece, location) in enumerate(zip(zone.pieces, zone.locations, strict=True)):
        style = _SIGHTING if location is not None and location.sighting_id else _REPORT
        markers.append(
            Marker(
                piece.center.lon,
                piece.center.lat,
                _location_label(location, k == 0),
                fill=style.fill,
                kind=style.kind,
            )
        )
    return markers


def _notes(message: AlertMessage, from_circles: bool) -> list[str]:
    area = message.area
    notes = [
        f"sent {_when(message.sent)} · effective {_when(message.effective)} · "
        f"expires {_when(message.expires)}",
        f"{area.vertex_count} vertices · overshoot: land {area.overshoot_land_m:g} m, "
        f"sea {area.overshoot_sea_m:g} m · targeting: {area.targeting}",
    ]
    codes = area.geocodes or ["-"]
    notes += [
        ("geocodes: " if i == 0 else "") + ", ".join(codes[i : i + 10])
        for i in range(0, len(codes), 10)
    ]
    if from_circles:
        notes.append("exact zone drawn from the circles: the zone settings changed since")
    return notes
