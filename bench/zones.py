"""Zone benchmark: ``.venv/bin/python -m bench.zones``.

1. Speed: a 160 km zone around Fès clipped to Morocco, brought to ≤ 100 vertices per part with
   both overshoots measured, beside two baselines in the same run: the bare geodesic disk
   clipped to the territory (what any clipped zone costs), and a plain
   ``shapely.Point(lon, lat).buffer(...)``.
2. Quality over 1,000 seeded random cases (radius 5–500 km, centres in Morocco): land
   overshoot, polygons per zone (hole-free parts) and vertices per part, and the share meeting
   the 161 m rule, overall and by radius band.
3. Sixteen places from Tangier to Guerguerat at 160 km, near the enclaves and the land
   borders among them: each one's overshoots, parts, vertices and time.
4. Zones of several trusted locations (a union of disks), the same figures.
5. Zones with a direction of travel (corridors), the same figures.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import numpy as np
import shapely

from alert_engine.composer import area_of
from alert_engine.footprint import WEA_LIMIT_M, Footprint, footprint, footprint_of, vertex_count
from alert_engine.geodesy import geodesic_disk
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import disk_piece, piece_of
from alert_engine.territory import Territory, default_paths, load_territory
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import Point

FES = Point(lon=-5.0003, lat=34.0331)
# (lon, lat), read off OpenStreetMap by hand.
PLACES = {
    "Tangier": (-5.7998, 35.7673),
    "Fnideq": (-5.3572, 35.8489),
    "Tetouan": (-5.3684, 35.5785),
    "Al Hoceima": (-3.9372, 35.2517),
    "Nador": (-2.9335, 35.1681),
    "Oujda": (-1.9086, 34.6814),
    "Fes": (-5.0003, 34.0331),
    "Rabat": (-6.8416, 34.0209),
    "Casablanca": (-7.5898, 33.5731),
    "Figuig": (-1.2286, 32.1093),
    "Errachidia": (-4.4244, 31.9314),
    "Marrakech": (-7.9811, 31.6295),
    "Agadir": (-9.5981, 30.4278),
    "Laayoune": (-13.2028, 27.1536),
    "Dakhla": (-15.9570, 23.6848),
    "Guerguerat": (-16.9453, 21.3769),
}
MEKNES = (-5.5473, 33.8935)
# Several trusted locations: (place names, km each).
SEVERAL = {
    "Fes+Meknes": (("Fes", "Meknes"), 160.0),
    "Tetouan+Tangier": (("Tetouan", "Tangier"), 160.0),
    "Oujda+Nador": (("Oujda", "Nador"), 160.0),
    "Agadir+Marrakech": (("Agadir", "Marrakech"), 160.0),
    "Rabat+Casa+Fes": (("Rabat", "Casablanca", "Fes"), 200.0),
}
# Directions of travel (a corridor: the floor disk stretched along the heading), as reported
# by police: (place, heading in degrees, reach km).
CORRIDORS = {
    "Meknes 200°": (MEKNES, 200.0, 400.0),
    "Marrakech 45°": (PLACES["Marrakech"], 45.0, 320.0),
    "Khouribga 300°": ((-6.9063, 32.8811), 300.0, 173.3),
    "Beni Mellal 290°": ((-6.3498, 32.3373), 290.0, 266.7),
    "Oujda 90°": (PLACES["Oujda"], 90.0, 300.0),
    "Tetouan 0°": (PLACES["Tetouan"], 0.0, 250.0),
}
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
    territory.build_indexes()  # what the engine builds at start-up
    footprint(FES, 160.0, territory, 100)
    degrees = 160.0 / 111.32  # what a degree-based buffer would use
    zone_ms: list[float] = []
    area_ms: list[float] = []
    clipped_ms: list[float] = []
    plain_ms: list[float] = []
    # Taken in turns, so that a change in the machine's speed meanwhile (it is shared) moves
    # the figures and their baselines alike.
    for _ in range(50):
        zone_ms += _timed(lambda: footprint(FES, 160.0, territory, 100), 1)
        area_ms += _timed(lambda: area_of(pieces, None, policy), 1)
        clipped_ms += _timed(lambda: _disk_on_territory(FES, 160.0, territory), 1)
        plain_ms += _timed(lambda: shapely.Point(FES.lon, FES.lat).buffer(degrees), 20)
    for name, times in (
        ("footprint 160 km ≤100 v", zone_ms),
        ("+ geocodes (area_of)", area_ms),
        ("baseline disk ∩ territory", clipped_ms),
        ("plain Point.buffer", plain_ms),
    ):
        median = statistics.median(times)
        print(f"{name:27} median {median:8.3f} ms   {1000.0 / median:10.1f} zones/s")
    ratio = statistics.median(zone_ms) / statistics.median(clipped_ms)
    print(f"footprint / baseline disk ∩ territory: ×{ratio:.2f}")


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


def places(territory: Territory) -> None:
    print("\nplace        160 km: land m   sea m  parts  vertices  161 m  ms (median of 5)")
    for name, (lon, lat) in PLACES.items():
        center = Point(lon=lon, lat=lat)
        sent = footprint(center, 160.0, territory, 100)
        median = statistics.median(_timed(lambda c=center: footprint(c, 160.0, territory, 100), 5))
        meets = "yes" if sent.meets_wea_rule else "no"
        print(
            f"{name:12} {sent.overshoot_land_m:14.1f} {sent.overshoot_sea_m:7.0f}"
            f" {len(sent.parts):6} {sent.vertex_count:9} {meets:>6} {median:6.1f}"
        )


def several(territory: Territory) -> None:
    print("\nseveral      km: land m   sea m  parts  vertices  161 m  ms (median of 5)")
    for name, (names, km) in SEVERAL.items():
        spots = [{**PLACES, "Meknes": MEKNES}[n] for n in names]
        pieces = [disk_piece(Point(lon=lon, lat=lat), km).polygon for lon, lat in spots]
        _zone_row(name, km, pieces, territory)


def corridors(territory: Territory) -> None:
    print("\ncorridor      km: land m   sea m  parts  vertices  161 m  ms (median of 5)")
    policy = ZonePolicy(territory=territory)
    now = datetime.now(UTC)
    for name, ((lon, lat), heading, km) in CORRIDORS.items():
        seen = TrustedLocation(point=Point(lon=lon, lat=lat), at=now, heading_deg=heading)
        _zone_row(name, km, [piece_of(seen, km, policy).polygon], territory)


def _zone_row(name: str, km: float, pieces: list[shapely.Polygon], territory: Territory) -> None:
    """One zone's figures: overshoots, parts, vertices, the rule, the median time of 5."""
    sent: Footprint = footprint_of(pieces, territory, 100)
    median = statistics.median(_timed(lambda: footprint_of(pieces, territory, 100), 5))
    meets = "yes" if sent.meets_wea_rule else "no"
    print(
        f"{name:16} {km:3.0f} {sent.overshoot_land_m:8.1f} {sent.overshoot_sea_m:7.0f}"
        f" {len(sent.parts):6} {sent.vertex_count:9} {meets:>6} {median:6.1f}"
    )


def main() -> None:
    territory = load_territory(*default_paths())
    speed(territory)
    quality(territory)
    places(territory)
    several(territory)
    corridors(territory)


if __name__ == "__main__":
    main()
