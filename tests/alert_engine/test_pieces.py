"""The zone's pieces: a union over trusted locations within a horizon, and corridors along a
known direction of travel. Pure geometry, checked with pyproj's own geodesics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from pyproj import Geod

from alert_engine.geodesy import geodesic_disk
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import (
    ZONE_LOCATIONS,
    live_locations,
    piece_of,
    pieces_at,
    reaches_at,
)
from alert_engine.unclipped import cover_of
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import Point

GEOD = Geod(ellps="WGS84")
POLICY = ZonePolicy()  # floor 160 km, vehicle 80 km/h, horizon 3 h, side fraction 0.35
BENI_MELLAL = Point(lat=32.3373, lon=-6.3498)
SEEN = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _fwd(point: Point, azimuth: float, metres: float) -> Point:
    lon, lat, _ = GEOD.fwd(point.lon, point.lat, azimuth, metres)
    return Point(lat=float(lat), lon=float(lon))


def _distances_m(point: Point, polygon: shapely.Polygon) -> np.ndarray:
    ring = np.asarray(polygon.exterior.coords)
    _, _, d = GEOD.inv(
        np.full(len(ring), point.lon), np.full(len(ring), point.lat), ring[:, 0], ring[:, 1]
    )
    return np.asarray(d)


def _inside(polygon: shapely.Geometry, point: Point) -> bool:
    return bool(shapely.covers(polygon, shapely.Point(point.lon, point.lat)))


def _heading(heading: float, at: datetime = SEEN) -> TrustedLocation:
    return TrustedLocation(point=BENI_MELLAL, at=at, heading_deg=heading)


def test_without_direction_the_piece_is_the_disk() -> None:
    piece = piece_of(TrustedLocation(point=BENI_MELLAL, at=SEEN), 400.0, POLICY)
    assert piece.is_disk and piece.side_km == 400.0 and piece.far is None
    assert shapely.equals(piece.polygon, geodesic_disk(BENI_MELLAL, 400_000).polygon)


def test_the_corridor_reaches_exactly_r_along_the_heading() -> None:
    r_km, heading = 400.0, 60.0
    piece = piece_of(_heading(heading), r_km, POLICY)
    side_km = max(POLICY.floor_km, POLICY.bias_side_fraction * r_km)  # 160: the floor wins
    assert piece.side_km == side_km and piece.heading_deg == heading
    assert piece.far is not None
    # The far centre is r − r_side along the heading ...
    azimuth, back, along = GEOD.inv(BENI_MELLAL.lon, BENI_MELLAL.lat, piece.far.lon, piece.far.lat)
    assert along == pytest.approx((r_km - side_km) * 1000, abs=1.0)
    assert azimuth == pytest.approx(heading, abs=1e-6)
    # ... and the tip, r_side beyond it on the same geodesic, is r from the location.
    tip = _fwd(piece.far, back + 180.0, side_km * 1000)
    _, _, to_tip = GEOD.inv(BENI_MELLAL.lon, BENI_MELLAL.lat, tip.lon, tip.lat)
    assert to_tip == pytest.approx(r_km * 1000, abs=1.0)
    # The hull reaches the tip and no farther (its corners sit on the covering disks).
    assert _inside(piece.polygon, tip)
    assert r_km * 1000 <= _distances_m(BENI_MELLAL, piece.polygon).max() <= r_km * 1000 + 10
    # Behind the location, only the side disk: a point 300 km the other way is outside.
    assert not _inside(piece.polygon, _fwd(BENI_MELLAL, heading + 180, 300_000))
    assert _inside(piece.polygon, _fwd(BENI_MELLAL, heading, 300_000))


def test_the_corridor_is_two_side_radii_wide_and_holds_the_floor_disk() -> None:
    piece = piece_of(_heading(60.0), 400.0, POLICY)
    side_m = piece.side_km * 1000
    assert piece.far is not None
    azimuth, _, along = GEOD.inv(BENI_MELLAL.lon, BENI_MELLAL.lat, piece.far.lon, piece.far.lat)
    middle = _fwd(BENI_MELLAL, azimuth, along / 2)
    _, back, _ = GEOD.inv(BENI_MELLAL.lon, BENI_MELLAL.lat, middle.lon, middle.lat)
    for side in (back + 90, back - 90):  # across the corridor at its middle
        # Straight lon/lat edges and geodesics part by well under 1% over 240 km.
        assert _inside(piece.polygon, _fwd(middle, side, side_m * 0.99))
        assert not _inside(piece.polygon, _fwd(middle, side, side_m * 1.01))
    assert shapely.covers(piece.polygon, geodesic_disk(BENI_MELLAL, 160_000).polygon)


def test_within_the_floor_the_piece_is_just_the_disk() -> None:
    piece = piece_of(_heading(60.0), POLICY.floor_km, POLICY)
    assert piece.is_disk and piece.side_km == POLICY.floor_km
    assert shapely.equals(piece.polygon, geodesic_disk(BENI_MELLAL, 160_000).polygon)


def test_a_near_destination_stops_the_corridor_there() -> None:
    destination = _fwd(BENI_MELLAL, 60.0, 100_000)
    location = TrustedLocation(point=BENI_MELLAL, at=SEEN, destination=destination)
    piece = piece_of(location, 400.0, POLICY)
    assert piece.far is not None and piece.heading_deg == pytest.approx(60.0, abs=1e-6)
    _, _, to_far = GEOD.inv(destination.lon, destination.lat, piece.far.lon, piece.far.lat)
    assert to_far < 1.0  # the far disk is centred on the destination
    reach = _distances_m(BENI_MELLAL, piece.polygon).max()
    assert 260_000 <= reach <= 260_000 + 10  # 100 km + the 160 km side radius


def test_heading_and_a_destination_beyond_reach_give_the_same_piece() -> None:
    far_away = _fwd(BENI_MELLAL, 60.0, 900_000)
    by_heading = piece_of(_heading(60.0), 400.0, POLICY)
    by_destination = piece_of(
        TrustedLocation(point=BENI_MELLAL, at=SEEN, destination=far_away), 400.0, POLICY
    )
    difference = shapely.symmetric_difference(by_heading.polygon, by_destination.polygon)
    assert difference.area < 1e-9 * by_heading.polygon.area


def test_the_side_fraction_widens_with_the_reach() -> None:
    piece = piece_of(_heading(0.0), 1000.0, POLICY)
    assert piece.side_km == pytest.approx(350.0)  # 0.35 × 1000 km is above the floor


def test_the_horizon_drops_old_locations() -> None:
    report = TrustedLocation(point=BENI_MELLAL, at=SEEN)
    marrakech = Point(lat=31.6295, lon=-7.9811)
    early = TrustedLocation(point=marrakech, at=SEEN + 2 * HOUR, sighting_id="s1")
    late = TrustedLocation(point=marrakech, at=SEEN + 4 * HOUR, sighting_id="s2")
    assert live_locations([report, early], POLICY) == [early, report]  # 2 h apart: both
    assert live_locations([report, early, late], POLICY) == [late, early]  # report: 4 h old
    no_horizon = ZonePolicy(sighting_horizon=timedelta(0))
    assert live_locations([report, early, late], no_horizon) == [late]


def test_a_zone_is_drawn_around_the_newest_locations_only() -> None:
    """As many as an approval carries (``CARRIED_SIGHTINGS``) and the last-seen place: the
    same zone before and after approval, and a bounded cost however many sightings come."""
    seen = [
        TrustedLocation(point=BENI_MELLAL, at=SEEN + k * timedelta(seconds=10), sighting_id=f"s{k}")
        for k in range(ZONE_LOCATIONS + 4)
    ]
    assert live_locations(seen, POLICY) == seen[::-1][:ZONE_LOCATIONS]


def test_an_older_sighting_joins_the_union_without_moving_the_centre() -> None:
    report = TrustedLocation(point=BENI_MELLAL, at=SEEN)
    khouribga = Point(lat=32.8811, lon=-6.9063)
    older = TrustedLocation(point=khouribga, at=SEEN - HOUR, sighting_id="s1")
    at = SEEN + 3 * HOUR
    pieces = pieces_at([report, older], "vehicle", POLICY, at)
    assert [p.center for p in pieces] == [BENI_MELLAL, khouribga]  # the newest drives the centre
    assert [p.reach_km for p in pieces] == [240.0, 320.0]  # each grows from its own time
    union = shapely.union_all([p.polygon for p in pieces])
    # 300 km north-west of Khouribga is within its 320 km, beyond Beni Mellal's 240 km.
    beyond = _fwd(khouribga, 315.0, 300_000)
    assert _inside(union, beyond)
    assert not _inside(pieces[0].polygon, beyond)


def test_the_cover_without_territory_covers_every_piece_within_the_budget() -> None:
    report = TrustedLocation(point=BENI_MELLAL, at=SEEN, heading_deg=60.0)
    sighting = TrustedLocation(point=Point(lat=30.4278, lon=-9.5981), at=SEEN + HOUR)
    pieces = pieces_at([report, sighting], "vehicle", POLICY, SEEN + 5 * HOUR)
    assert pieces[1].heading_deg is not None
    cover = cover_of(pieces, 100)
    assert cover.vertex_count <= 100
    for piece in pieces:
        # Samples of the true geodesic circles around each centre lie inside the cover.
        for azimuth in np.linspace(0, 360, 72, endpoint=False):
            assert _inside(cover.polygon, _fwd(piece.center, azimuth, piece.side_km * 1000))
        if piece.far is not None:
            for azimuth in np.linspace(0, 360, 72, endpoint=False):
                assert _inside(cover.polygon, _fwd(piece.far, azimuth, piece.side_km * 1000))
    # The overshoot bound holds at the cover's corners (each sits off one of the disks).
    disks = [(p.center, p.side_km * 1000) for p in pieces]
    disks += [(p.far, p.side_km * 1000) for p in pieces if p.far is not None]
    corners = np.asarray(shapely.get_coordinates(cover.polygon))
    beyond = [
        min(GEOD.inv(centre.lon, centre.lat, lon, lat)[2] - radius for centre, radius in disks)
        for lon, lat in corners
    ]
    assert max(beyond) <= cover.overshoot_m + 1
    assert 0 < cover.overshoot_m < 2_000


def test_a_tight_budget_still_covers() -> None:
    far_apart = [
        TrustedLocation(point=BENI_MELLAL, at=SEEN + HOUR),
        TrustedLocation(point=Point(lat=34.6814, lon=-1.9086), at=SEEN),  # Oujda
    ]
    pieces = pieces_at(far_apart, "vehicle", POLICY, SEEN + HOUR)
    cover = cover_of(pieces, 8)  # two 8-gons apart need 16: the hull or its box
    assert cover.vertex_count <= 8
    for piece in pieces:
        assert shapely.covers(cover.polygon, piece.polygon)
    assert cover.overshoot_m > 100_000  # the gap between the cities is honestly counted


def test_reaches_tell_a_zone_that_still_grows_from_one_at_its_cap() -> None:
    """The widening timer skips measuring a zone whose reaches did not change."""
    report = TrustedLocation(point=BENI_MELLAL, at=SEEN)
    sighting = TrustedLocation(point=_fwd(BENI_MELLAL, 0, 50_000), at=SEEN + HOUR, sighting_id="s")
    cap_reached = SEEN + timedelta(hours=POLICY.cap_km / POLICY.speeds_kmh["vehicle"]) + HOUR
    growing = (SEEN + 3 * HOUR, SEEN + 4 * HOUR)
    capped = (cap_reached + HOUR, cap_reached + 5 * HOUR)
    for at in (*growing, *capped):
        assert reaches_at([report, sighting], "vehicle", POLICY, at) == [
            p.reach_km for p in pieces_at([report, sighting], "vehicle", POLICY, at)
        ]
    earlier, later = (reaches_at([report, sighting], "vehicle", POLICY, t) for t in growing)
    assert earlier != later
    earlier, later = (reaches_at([report, sighting], "vehicle", POLICY, t) for t in capped)
    assert earlier == later == [POLICY.cap_km, POLICY.cap_km]
