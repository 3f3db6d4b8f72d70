"""Draw the service area, the territory and about 50 km around it, for the intake API.

    .venv/bin/python -m deploy.geodata.service_area   # Morocco's, into intake_api/data/
    .venv/bin/python -m deploy.geodata.service_area --regions R.geojson --out area.geojson

The intake API refuses a case's point outside it: a point abroad or far out at sea is a
mistake (a swapped latitude and longitude, a wrong country's coordinates), and accepted it
became an alert over another country or open sea, which reaches no one it should. Near the
border a point abroad is kept: a child may be seen just across it, and the zone around it
still covers the territory. Small (a few hundred vertices), so the API loads it at once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.geodesy import WGS84
from alert_engine.territory import default_paths, load_territory
from intake_api.service_area import DEFAULT_AREA_FILE

REACH_KM = 50.0
# Degrees: the border is followed this closely for placing the disks (≈ 1 km), the disks are
# this far apart along it (≈ 10 km: their union then reaches 49.7 km between two), and the
# result keeps this much detail (≈ 500 m, taken off the outside: the 50 km is approximate).
_BORDER_DEG = 0.01
_SPACING_DEG = 0.09
_DETAIL_DEG = 0.005
_DISK_SIDES = 64


def service_area(territory: BaseGeometry) -> BaseGeometry:
    """The territory with everything within about REACH_KM (geodesic) of it."""
    simple = shapely.simplify(territory, _BORDER_DEG)
    border = shapely.segmentize(shapely.boundary(simple), _SPACING_DEG)
    azimuths = np.linspace(0.0, 360.0, _DISK_SIDES, endpoint=False)
    disks = [simple]
    for lon, lat in shapely.get_coordinates(border):
        lons, lats, _ = WGS84.fwd(
            np.full(azimuths.shape, lon),
            np.full(azimuths.shape, lat),
            azimuths,
            np.full(azimuths.shape, REACH_KM * 1000.0),
        )
        disks.append(shapely.Polygon(np.column_stack([lons, lats])))
    area = shapely.union_all(disks)
    # Holes (none should be left 50 km around a country) would only refuse points inside.
    polygons = [shapely.Polygon(p.exterior) for p in shapely.get_parts(area)]
    whole = shapely.union_all(polygons)
    return shapely.set_precision(shapely.simplify(whole, _DETAIL_DEG), 1e-4)


def write_service_area(regions: Path, out: Path) -> None:
    area = service_area(load_territory(regions).national)
    feature = {
        "type": "Feature",
        "properties": {"reach_km": REACH_KM},
        "geometry": shapely.geometry.mapping(area),
    }
    out.write_text(json.dumps(feature, separators=(",", ":")) + "\n")
    print(f"service area: {shapely.get_num_coordinates(area)} vertices, within {REACH_KM:g} km")


def main() -> None:
    regions, _, _, _ = default_paths()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regions", type=Path, default=regions)
    parser.add_argument("--out", type=Path, default=DEFAULT_AREA_FILE)
    args = parser.parse_args()
    write_service_area(args.regions, args.out)


if __name__ == "__main__":
    main()
