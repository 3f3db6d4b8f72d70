"""Draw the allowed areas from the boundary files and write them beside them.

    .venv/bin/python -m deploy.geodata.allowed   # Morocco's, into alert_engine/data/
    .venv/bin/python -m deploy.geodata.allowed --regions R.geojson --foreign-land F.geojson \
        --out allowed.geojson                    # another country's (TIFLI_TERRITORY_*_FILE)

The alert engine would otherwise draw them at every start (seconds of CPU); they depend only
on the territory and the foreign land around it, so the data build writes them once, after
those (``build.py`` calls this), and a test checks that the shipped file is what the shipped
boundaries give today.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from alert_engine.allowed_area import allowed_layers, layers_document
from alert_engine.territory import default_paths, load_territory


def write_allowed_areas(regions: Path, foreign_land: Path, out: Path) -> None:
    """Draw the layers from the ``regions`` and ``foreign_land`` GeoJSON and write ``out``."""
    territory = load_territory(regions, None, foreign_land)
    started = time.perf_counter()
    layers = allowed_layers(territory.national, territory.foreign_land)
    seconds = time.perf_counter() - started
    out.write_text(json.dumps(layers_document(layers), separators=(",", ":")) + "\n")
    counts = ", ".join(f"{layer.reach_m:g} m: {len(layer.vertices)}" for layer in layers)
    print(f"allowed areas drawn in {seconds:.1f} s, vertices by reach: {counts}")


def main() -> None:
    regions, _, foreign_land, allowed = default_paths()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regions", type=Path, default=regions)
    parser.add_argument("--foreign-land", type=Path, default=foreign_land)
    parser.add_argument("--out", type=Path, default=allowed)
    args = parser.parse_args()
    write_allowed_areas(args.regions, args.foreign_land, args.out)


if __name__ == "__main__":
    main()
