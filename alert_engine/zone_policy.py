"""How large a zone is and what it is sent as: the policy, and the radius it sets. Pure.

The radius grows with the time since the child was last seen, at the speed of the travel
mode, between a floor and a cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alert_engine.footprint import DEFAULT_MAX_POLYGONS
from alert_engine.territory import Territory
from shared.alert_contract import TravelMode


@dataclass(frozen=True)
class ZonePolicy:
    floor_km: float = 160.0
    cap_km: float = 2000.0
    speeds_kmh: dict[TravelMode, float] = field(
        default_factory=lambda: {
            "foot": 5.0,
            "vehicle": 80.0,
            "public_transport": 60.0,
            "unknown": 80.0,
        }
    )
    vertex_budget: int = 100  # per polygon sent
    # Polygons sent at most: a zone around an enclave is cut into hole-free parts, and a
    # large one along a winding border into as many as the 161 m rule needs.
    max_polygons: int = DEFAULT_MAX_POLYGONS
    # The land the zone is clipped to; None sends the whole disk (no clipping, no land mask).
    territory: Territory | None = None
    # A trusted location older than the newest one by more than this drops out of the union:
    # a fresh fix makes an hours-old one a hedge no longer worth the extra ground.
    sighting_horizon: timedelta = timedelta(hours=3)
    # A location with a direction of travel gets a corridor whose half-width is this share of
    # its reach (never less than the floor).
    bias_side_fraction: float = 0.35


def radius_km(policy: ZonePolicy, mode: TravelMode, last_seen: datetime, at: datetime) -> float:
    """``clamp(floor, speed(mode) × elapsed, cap)``."""
    elapsed_h = max((at - last_seen).total_seconds(), 0.0) / 3600.0
    reach = policy.speeds_kmh[mode] * elapsed_h
    return min(max(policy.floor_km, reach), policy.cap_km)
