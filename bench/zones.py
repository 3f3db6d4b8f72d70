"""Zone benchmark: ``.venv/bin/python -m bench.zones``.

1. Speed: a 160 km zone around Fès clipped to Morocco, brought to ≤ 100 vertices per part with
   both overshoots measured, beside two baselines in the same run: the bare geodesic disk
   clipped to the territory (what any clipped zone costs), and a plain
   ``shapely.Point(lon, lat).buffer(...)``.
2. Quality over 1,000 seeded random cases (radius 5–500 km, centres in Morocco): land
   overshoot, polygons per zone (hole-free parts) and vertices per part, and the share meeting
   the 161 m rule, overall and by radius band.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import shapely

from alert_engine.composer import area_of
from alert_engine.footprint import WEA_LIMIT_M, footprint, vertex_count
from alert_engine.geodesy import geodesic_disk
from alert_engine.pieces import disk_piece
from alert_engine.territory import Territory, default_paths, load_territory
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import Point

FES = Point(lon=-5.0003, lat=34.0331)
CASES = 1000
SEED = 20261129


def _timed(call: object, repeat: int) -> list[float]:
    assert callable(call)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def speed(territory: Territory) -> None:
    # Shipped beside the boundaries and loaded with them (deploy.geodata.allowed draws them).
    print(f"allowed areas: {len(territory.allowed)} layers, loaded with the territory")
    policy = ZonePolicy(territory=territory)
    pieces = [disk_piece(FES, 160.0)]
    footprint(FES, 160.0, territory, 100)  # warm the territory's cached unions
    zone_ms = _timed(lambda: footprint(FES, 160.0, territory, 100), 50)
    area_ms = _timed(lambda: area_of(pieces, None, policy), 50)
    clipped_ms = _timed(lambda: _disk_on_territory(FES, 160.0, territory), 50)
    degrees = 160.0 / 111.32  # what a degree-based buffer would use
    plain_ms = _timed(lambda: shapely.Point(FES.lon, FES.lat).buffer(degrees), 1000)
    for name, times in (
        ("footprint 160 km ≤100 v", zone_ms),
        ("+ geocodes (area_of)", area_ms),
        ("baseline disk ∩ territory", clipped_ms),
        ("plain Point.buffer", plain_ms),
    ):
        median = statistics.median(times)
        print(f"{name:27} median {median:8.3f} ms   {1000.0 / median:10.1f} zones/s")


def _disk_on_territory(center: Point, radius_km: float, territory: Territory) -> object:
    """The floor of any clipped zone: the geodesic disk ∩ the territory near it, no more."""
    disk = geodesic_disk(center, radius_km * 1000.0).polygon
    return shapely.intersection(disk, shapely.clip_by_rect(territory.national, *disk.bounds))


def _centres(territory: Territory, count: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = territory.national.bounds
    lons, lats = rng.uniform(minx, maxx, 20 * count), rng.uniform(miny, maxy, 20 * count)
    inside = shapely.contains_xy(territory.national, lons, lats)
    return np.column_stack([lons[inside], lats[inside]])[:count]


def quality(territory: Territory) -> None:
    rng = np.random.default_rng(SEED)
    centres = _centres(territory, CASES, rng)
    radii = rng.uniform(5.0, 500.0, CASES)
    land, vertices, polygons, per_part, elapsed, baseline = [], [], [], [], [], []
    for (lon, lat), radius in zip(centres, radii, strict=True):
        center = Point(lon=float(lon), lat=float(lat))
        start = time.perf_counter()
        sent = footprint(center, float(radius), territory, 100)
        elapsed.append((time.perf_counter() - start) * 1000.0)
        start = time.perf_counter()
        _disk_on_territory(center, float(radius), territory)
        baseline.append((time.perf_counter() - start) * 1000.0)
        land.append(sent.overshoot_land_m)
        vertices.append(sent.vertex_count)
        polygons.append(len(sent.parts))
        per_part.append(max((vertex_count(p) for p in sent.parts), default=0))
    print(f"\n{CASES} cases, radius 5–500 km, budget 100 per polygon, seed {SEED}")
    for name, values in (
        ("land overshoot m", land),
        ("vertices per zone", vertices),
        ("polygons per zone", polygons),
        ("largest polygon v", per_part),
        ("time ms", elapsed),
        ("baseline disk∩terr ms", baseline),
    ):
        p50, p90, p99 = np.percentile(values, [50, 90, 99])
        print(f"{name:21} p50 {p50:9.1f}  p90 {p90:9.1f}  p99 {p99:9.1f}  max {max(values):9.1f}")
    meets = np.asarray(land) <= WEA_LIMIT_M
    print(f"meeting {WEA_LIMIT_M:.0f} m on land: {float(np.mean(meets)):.1%}")
    for low, high in ((5, 50), (50, 160), (160, 326), (326, 500)):
        band = (radii >= low) & (radii < high)
        print(f"  radius {low:3}–{high:3} km: {float(np.mean(meets[band])):6.1%} of {band.sum()}")


def main() -> None:
    territory = load_territory(*default_paths())
    speed(territory)
    quality(territory)


if __name__ == "__main__":
    main()
