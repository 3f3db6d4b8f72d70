"""The zone as a union of pieces, one per trusted location: pure, no I/O.

Every trusted location of a case — the report's last-seen point and each sighting an officer
accepted — is evidence of where the child may be now, so the zone is the union of a piece per
location, each grown from its own time: ``r_i = clamp(floor, speed(mode) × (at − t_i), cap)``.
The newest location drives the centre (what partners show as "last seen"). A location older
than the newest by more than the policy's horizon drops out: a fresh fix supersedes it.

A location may come with a direction of travel (a heading, or a destination). Its piece is then
a corridor instead of a disk: the convex hull of a disk of radius ``r_side`` around the location
and one around the point ``d = r − r_side`` further along the heading, so its far tip is exactly
``r`` away. The same reach spent on a narrower band targets the people along the likely route
instead of everyone around; and since ``r_side`` never falls below the floor, the piece always
holds the floor disk around the location — a wrong heading never leaves the place itself
uncovered. A destination closer than the reach stops the corridor there: the child is not
expected beyond it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import shapely

from alert_engine.geodesy import WGS84, geodesic_disk
from alert_engine.locations import TrustedLocation
from alert_engine.zone_policy import ZonePolicy, radius_km
from shared.alert_contract import Point, TravelMode
from shared.events import CARRIED_SIGHTINGS

# The last-seen place and the newest sightings an approval carries: a zone of more pieces
# would differ before and after approval, and cost more than any case needs.
ZONE_LOCATIONS = CARRIED_SIGHTINGS + 1


@dataclass(frozen=True)
class Piece:
    center: Point  # the trusted location the piece grows from
    reach_km: float  # r: how far the child may have gone from ``location`` by now
    side_km: float  # the radius of the disk around the location that the piece holds
    heading_deg: float | None  # the corridor's direction; None: the piece is a disk
    far: Point | None  # the corridor's far centre, ``reach − side`` along the heading at most
    polygon: shapely.Polygon  # lon/lat, convex, covers the geodesic figure

    @property
    def is_disk(self) -> bool:
        """Whether the piece is a plain disk (no heading stretches it into a corridor)."""
        return self.heading_deg is None


def newest_first(locations: Sequence[TrustedLocation]) -> list[TrustedLocation]:
    """The locations from the most recent; the first is the zone's centre."""
    # Ties keep the earlier-recorded location first: the report before a same-time sighting.
    order = sorted(range(len(locations)), key=lambda i: (-locations[i].at.timestamp(), i))
    return [locations[i] for i in order]


def live_locations(
    locations: Sequence[TrustedLocation], policy: ZonePolicy
) -> list[TrustedLocation]:
    """The locations within the horizon of the newest, newest first, at most
    ``ZONE_LOCATIONS``."""
    if not locations:
        raise ValueError("a zone needs at least one trusted location")
    ordered = newest_first(locations)
    newest = ordered[0].at
    live = [loc for loc in ordered if newest - loc.at <= policy.sighting_horizon]
    return live[:ZONE_LOCATIONS]


def heading_of(location: TrustedLocation) -> float | None:
    """The direction of travel in degrees clockwise from north, if one is known."""
    if location.destination is not None:
        p, q = location.point, location.destination
        if (p.lat, p.lon) == (q.lat, q.lon):
            return None  # already there: no direction to favour
        azimuth, _, _ = WGS84.inv(p.lon, p.lat, q.lon, q.lat)
        return float(azimuth) % 360.0
    return location.heading_deg


def piece_of(location: TrustedLocation, reach_km: float, policy: ZonePolicy) -> Piece:
    """The piece for ``location`` with reach ``reach_km``: a disk, or a corridor."""
    heading = heading_of(location)
    side_km = reach_km
    along_m = 0.0
    if heading is not None:
        side_km = min(max(policy.floor_km, policy.bias_side_fraction * reach_km), reach_km)
        along_m = max(reach_km - side_km, 0.0) * 1000.0
        if location.destination is not None:
            p, q = location.point, location.destination
            _, _, to_destination = WGS84.inv(p.lon, p.lat, q.lon, q.lat)
            along_m = min(along_m, float(to_destination))
    point = location.point
    near = geodesic_disk(point, side_km * 1000.0).polygon
    if heading is None or along_m <= 0.0:
        return Piece(point, reach_km, side_km, None, None, near)
    lon, lat, _ = WGS84.fwd(point.lon, point.lat, heading, along_m)
    far = Point(lat=float(lat), lon=float(lon))
    # Both disks are convex in lon/lat, so their hull is a valid piece for footprint_of.
    corridor = shapely.convex_hull(
        shapely.union(near, geodesic_disk(far, side_km * 1000.0).polygon)
    )
    assert isinstance(corridor, shapely.Polygon)
    return Piece(point, reach_km, side_km, heading, far, shapely.orient_polygons(corridor))


def disk_piece(center: Point, reach_km: float) -> Piece:
    polygon = geodesic_disk(center, reach_km * 1000.0).polygon
    return Piece(center, reach_km, reach_km, None, None, polygon)


def reaches_at(
    locations: Sequence[TrustedLocation], mode: TravelMode, policy: ZonePolicy, at: datetime
) -> list[float]:
    """Each live location's reach at ``at``, newest first: the zone's size without its
    shape — equal at two times, the zone is the same (every piece at its cap)."""
    return [radius_km(policy, mode, loc.at, at) for loc in live_locations(locations, policy)]


def pieces_at(
    locations: Sequence[TrustedLocation], mode: TravelMode, policy: ZonePolicy, at: datetime
) -> list[Piece]:
    """The zone at ``at``: one piece per live location, newest first."""
    return [
        piece_of(loc, radius_km(policy, mode, loc.at, at), policy)
        for loc in live_locations(locations, policy)
    ]
