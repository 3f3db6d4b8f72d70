"""Zones drawn on one territory from three threads at once, against the same zones drawn one
after another: ``python -m tests.alert_engine.drawing_in_threads`` prints how many were drawn
and how many differ, as JSON. Run as a process of its own by ``test_drawing_off_the_loop``:
where the territory is not locked, it is this process that crashes, not the test run."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import shapely

from alert_engine.composer import clipped_zone
from alert_engine.footprint import load_compiled
from alert_engine.pieces import Piece, disk_piece
from alert_engine.territory import default_paths, load_territory
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import Point

# Near the enclaves, the land borders and the coasts, where a zone tests the most geometry.
_PLACES = (
    (-5.3572, 35.8489),
    (-2.9335, 35.1681),
    (-1.9086, 34.6814),
    (-5.0003, 34.0331),
    (-1.2286, 32.1093),
    (-16.9453, 21.3769),
)
_RADII_KM = (60.0, 160.0, 320.0)
_ROUNDS = 3


def _drawn(pieces: list[Piece], policy: ZonePolicy) -> str:
    zone = clipped_zone(pieces, policy)
    parts = b"".join(shapely.to_wkb(p) for p in zone.parts).hex()
    return f"{parts} {zone.overshoot_land_m!r} {zone.overshoot_sea_m!r} {zone.geocodes!r}"


def main() -> None:
    territory = load_territory(*default_paths())
    territory.build_indexes()  # as the engine starts
    load_compiled()
    policy = ZonePolicy(territory=territory)
    zones = [[disk_piece(Point(lon=lon, lat=lat), km)] for lon, lat in _PLACES for km in _RADII_KM]
    alone = [_drawn(pieces, policy) for pieces in zones]
    differ = 0
    with ThreadPoolExecutor(max_workers=3) as threads:
        for _ in range(_ROUNDS):
            together = list(threads.map(lambda pieces: _drawn(pieces, policy), zones))
            differ += sum(a != b for a, b in zip(alone, together, strict=True))
    print(json.dumps({"drawn": len(zones) * _ROUNDS, "differ": differ}))


if __name__ == "__main__":
    main()
