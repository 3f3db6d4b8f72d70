"""``tifli zone preview``: the zone the alert engine would send for a point, computed offline
with the engine's own code, described and drawn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, output_file

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    from shapely.geometry.base import BaseGeometry

    from alert_engine.svg_map import Layer
    from alert_engine.territory import Territory
    from shared.alert_contract import Area
    from shared.settings import Settings


def register(commands: Any) -> None:
    zone = commands.add_parser(
        "zone", help="zones: preview one offline", description="Alert zones."
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    preview = add_command(
        zone,
        "preview",
        summary="compute the zone for a point offline: radius, vertices, overshoot, "
        "targeting, geocodes; draw it as SVG",
        example="tifli zone preview --lat 35.76 --lon -5.83 --radius-km 160 -o zone.svg",
    )
    preview.add_argument("--lat", type=float, required=True, help="last seen, WGS84 latitude")
    preview.add_argument("--lon", type=float, required=True, help="last seen, WGS84 longitude")
    preview.add_argument(
        "--radius-km",
        type=float,
        help="the zone's radius (default: the floor, TIFLI_ZONE_FLOOR_KM: a fresh report)",
    )
    preview.add_argument(
        "-o", "--output", type=output_file, metavar="FILE.svg", help="write a picture"
    )
    preview.set_defaults(handler=handle)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from alert_engine.composer import area_of
    from alert_engine.pieces import disk_piece
    from intake_api.dependencies import service_area_of
    from services.components import zone_policy
    from shared.alert_contract import Point

    try:
        point = Point(lat=args.lat, lon=args.lon)
    except ValidationError:
        print("tifli: --lat must be within ±90 and --lon within ±180", file=sys.stderr)
        return 2
    area_served = service_area_of(settings)
    if not area_served.contains(point):
        # As the API refuses it: no case can be there (and no zone be drawn at a pole).
        print(f"tifli: the point is {area_served.refusal()}", file=sys.stderr)
        return 2
    policy = zone_policy(settings)
    radius = policy.floor_km if args.radius_km is None else args.radius_km
    if not 0 < radius <= policy.cap_km:
        print(f"tifli: --radius-km must be above 0 and at most {policy.cap_km:g}", file=sys.stderr)
        return 2
    piece = disk_piece(point, radius)
    area = area_of([piece], None, policy)
    print(describe(area, policy.vertex_budget))
    if args.output is not None:
        write_picture(args.output, area, piece.polygon, policy.territory)
        print(f"{'picture':<10}  {args.output}")
    return 0


def describe(area: Area, vertex_budget: int) -> str:
    from shapely.geometry import shape

    circle = area.circle
    polygons = len(getattr(shape(area.geojson), "geoms", [None]))
    # One line per area: regions first, then provinces (the engine's order).
    shares = "\n".join(
        f"{'':<10}  {g.code:<7} {g.share:>4.0%}  {g.name_fr} / {g.name_ar}"
        for g in area.geocode_shares
    ).lstrip()
    lines = [
        ("centre", f"{circle.center.lat:.4f}, {circle.center.lon:.4f}"),
        ("radius", f"{circle.radius_km:g} km"),
        ("vertices", f"{area.vertex_count} in {polygons} polygon(s), at most {vertex_budget} each"),
        ("overshoot", f"land {area.overshoot_land_m:g} m, sea {area.overshoot_sea_m:g} m"),
        ("targeting", area.targeting),
        ("geocodes", shares or "- (no territory: the zone is sent whole)"),
    ]
    return "\n".join(f"{name:<10}  {value}" for name, value in lines)


def picture_layers(
    disk: BaseGeometry, sent: BaseGeometry, territory: Territory | None
) -> list[Layer]:
    from alert_engine.svg_map import Layer

    layers = []
    if territory is not None:
        layers += [
            Layer("foreign land", territory.foreign_land, fill="#e4e0d8"),
            Layer("national territory", territory.national, fill="#f6f1e1"),
            Layer(
                "regions' borders",
                territory.national.boundary.union(
                    shapely_boundaries([r.geometry for r in territory.regions])
                ),
                stroke="#a99f86",
                stroke_width=0.6,
                dash="3 2",
            ),
            Layer("coast and borders", territory.land.boundary, stroke="#6d6450", stroke_width=1),
        ]
    layers += [
        Layer(
            "zone (geodesic disk)",
            disk,
            stroke="#c8553d",
            stroke_width=1.2,
            dash="6 3",
        ),
        Layer(
            "sent polygon(s)",
            sent,
            fill="#c8553d",
            fill_opacity=0.35,
            stroke="#8c2f1b",
            stroke_width=1.5,
            every_vertex=True,
        ),
    ]
    return layers


def shapely_boundaries(geometries: list[BaseGeometry]) -> BaseGeometry:
    import shapely

    return shapely.union_all([g.boundary for g in geometries])


def write_picture(path: Path, area: Area, disk: BaseGeometry, territory: Territory | None) -> None:
    from shapely.geometry import shape

    from alert_engine.svg_map import frame_around, svg_picture

    sent = shape(area.geojson)
    notes = [
        f"radius {area.circle.radius_km:g} km · {area.vertex_count} vertices · overshoot land "
        f"{area.overshoot_land_m:g} m, sea {area.overshoot_sea_m:g} m · targeting {area.targeting}",
    ]
    # Ten codes a line: the picture is 800 px wide.
    codes = area.geocodes or ["-"]
    notes += [
        ("geocodes: " if i == 0 else "") + ", ".join(codes[i : i + 10])
        for i in range(0, len(codes), 10)
    ]
    path.write_text(
        svg_picture(
            picture_layers(disk, sent, territory),
            frame_around(disk),
            title=f"Tifli zone: {area.description}",
            notes=notes,
        ),
        encoding="utf-8",
    )
