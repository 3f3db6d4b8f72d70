"""Map benchmark: ``.venv/bin/python -m bench.maps``.

1. The base map (``GET /v1/map/base``): its bytes, raw and gzipped, beside the boundary files
   it is made from, and the time to build it once per process.
2. The picture of an alert version (``GET /v1/alerts/{id}/map.svg``, without HTTP): a corridor
   from Tanger and a trusted sighting in Fès, rebuilt and drawn, beside the engine computing
   that version's area (``area_of``) in the same run; and the picture's bytes.
3. What a cached picture costs instead: its ETag (the key a 304 answers by, computed from
   the version's inputs without drawing), beside drawing it again (2.).
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from alert_engine.alert_picture import rebuild_zone, version_svg
from alert_engine.base_map import base_map, feature_collection
from alert_engine.composer import area_of
from alert_engine.locations import TrustedLocation
from alert_engine.map_routes import picture_etag
from alert_engine.pieces import pieces_at
from alert_engine.territory import default_paths, load_territory
from alert_engine.zone_policy import ZonePolicy
from shared.alert_contract import AlertMessage, Point
from shared.alert_example import ALERT_MESSAGE_EXAMPLE

REPEAT = 20


def _median_ms(call: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main() -> None:
    paths = default_paths()
    territory = load_territory(*paths)
    policy = ZonePolicy(territory=territory)
    _ = territory.land, territory.allowed  # built at the engine's start, not measured here

    start = time.perf_counter()
    base = base_map(territory)
    body = json.dumps(feature_collection(base), ensure_ascii=False, separators=(",", ":")).encode()
    built_ms = (time.perf_counter() - start) * 1000.0
    source = sum(p.stat().st_size for p in paths)
    print(f"base map: {len(base.areas)} features, built once in {built_ms:.0f} ms")
    print(f"  {len(body):>9,} B raw   {len(gzip.compress(body)):>9,} B gzipped")
    print(f"  {source:>9,} B of boundary files it is made from (baseline)")

    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    locations = [
        TrustedLocation(
            point=Point(lat=35.7595, lon=-5.834),
            at=now - timedelta(hours=2.5),
            place="Tanger",
            heading_deg=90.0,
        ),
        TrustedLocation(
            point=Point(lat=34.0331, lon=-5.0003), at=now - timedelta(minutes=10), place="Fès"
        ),
    ]
    pieces = pieces_at(locations, "vehicle", policy, now)
    area = area_of(pieces, "Fès", policy)
    message = AlertMessage.model_validate(ALERT_MESSAGE_EXAMPLE).model_copy(
        update={"area": area, "sent": now}
    )

    def picture() -> str:
        return version_svg(message, rebuild_zone(message, locations, "vehicle", policy, now), base)

    svg = picture()
    picture_ms = _median_ms(picture)
    area_ms = _median_ms(
        lambda: area_of(pieces_at(locations, "vehicle", policy, now), "Fès", policy)
    )
    print(f"version picture: {len(svg):,} B ({len(gzip.compress(svg.encode())):,} B gzipped)")
    print(f"  rebuild + draw     median {picture_ms:8.1f} ms")
    print(f"  area_of (baseline) median {area_ms:8.1f} ms   (the engine's work for the version)")

    payload = message.model_dump_json()
    base_etag = '"' + "0" * 32 + '"'

    def etag() -> str:
        return picture_etag(payload, now.isoformat(), "vehicle", repr(locations), base_etag)

    etag_ms = _median_ms(etag, repeat=200)
    print("cached picture (If-None-Match → 304):")
    print(f"  ETag               median {etag_ms:8.3f} ms   vs drawing {picture_ms:.1f} ms (2.)")


if __name__ == "__main__":
    main()
