"""Zones drawn while a report awaits review, kept for its approval: in memory, no I/O.

A zone is a pure function of its pieces (and the policy's territory and budget, fixed for a
running engine), and a fresh case's pieces are known when it is submitted: until the child
could have gone farther than the policy's floor, the radius is the floor, so the zone drawn
at submission is the one the approval needs. Drawing it then takes its cost off the path
from approval to partners. A zone that changed in between (a later approval, an edited
report) is simply not found, and drawn as before.

Only what the geometry needs is kept, keyed by the pieces' exact coordinates: no names, no
case ids. The engine keeps a bounded number, the most recently drawn or used. Zones are drawn
off the event loop, in a thread of their own, so the store is locked while it is read or
changed: any thread may use it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import shapely

from alert_engine.footprint import Footprint
from alert_engine.territory import Geocode

DEFAULT_CAPACITY = 256  # reports awaiting review at once, with room to spare (10–80 kB each)


@dataclass(frozen=True)
class ClippedZone:
    """A zone as sent on a territory: what an alert's area takes of its footprint, and the
    areas it touches. Not the exact zone, with its coasts: kept zones hold only what is sent."""

    parts: tuple[shapely.Polygon, ...]  # () when the zone lies entirely off the territory
    vertex_count: int
    overshoot_land_m: float
    overshoot_sea_m: float
    meets_wea_rule: bool
    geocodes: tuple[Geocode, ...]

    @classmethod
    def of(cls, sent: Footprint, geocodes: Sequence[Geocode]) -> ClippedZone:
        return cls(
            parts=sent.parts,
            vertex_count=sent.vertex_count,
            overshoot_land_m=sent.overshoot_land_m,
            overshoot_sea_m=sent.overshoot_sea_m,
            meets_wea_rule=sent.meets_wea_rule,
            geocodes=tuple(geocodes),
        )


class PreparedZones:
    """The most recently drawn zones, by their pieces; least recently used dropped first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("keeping prepared zones needs room for at least one")
        self._capacity = capacity
        self._zones: OrderedDict[bytes, ClippedZone] = OrderedDict()
        # A zone found by one thread must not be moved to the end while another drops the
        # oldest: an OrderedDict changed from two threads at once can lose its order.
        self._lock = threading.Lock()

    def get(self, polygons: Sequence[shapely.Polygon]) -> ClippedZone | None:
        key = zone_key(polygons)
        with self._lock:
            zone = self._zones.get(key)
            if zone is not None:
                self._zones.move_to_end(key)
            return zone

    def put(self, polygons: Sequence[shapely.Polygon], zone: ClippedZone) -> None:
        key = zone_key(polygons)
        with self._lock:
            self._zones[key] = zone
            self._zones.move_to_end(key)
            while len(self._zones) > self._capacity:
                self._zones.popitem(last=False)

    def __contains__(self, polygons: Sequence[shapely.Polygon]) -> bool:
        key = zone_key(polygons)
        with self._lock:
            return key in self._zones

    def __len__(self) -> int:
        with self._lock:
            return len(self._zones)


def zone_key(polygons: Sequence[shapely.Polygon]) -> bytes:
    """What a zone is kept by: its pieces, to the bit."""
    # WKB holds every coordinate exactly, and says its own length: equal keys are the same
    # pieces, to the bit.
    return b"".join(shapely.to_wkb(p) for p in polygons)
