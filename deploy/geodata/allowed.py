"""Draw the allowed areas from the shipped boundaries and write them beside them.

    .venv/bin/python -m deploy.geodata.allowed   # writes alert_engine/data/allowed_areas.geojson

The alert engine would otherwise draw them at every start (seconds of CPU); they depend only
on the boundary files, so the data build writes them once, after those (``build.py`` calls
this), and a test checks that the shipped file is what the boundaries give today.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from alert_engine.allowed_area import allowed_layers, layers_document
from alert_engine.territory import ALLOWED_AREAS_FILE, load_territory


def write_allowed_areas(data_dir: Path) -> Path:
    """Draw the layers from the boundary files in ``data_dir`` and write them there."""
    territory = load_territory(
        data_dir / "morocco_regions.geojson",
        data_dir / "morocco_provinces.geojson",
        data_dir / "foreign_land.geojson",
    )
    started = time.perf_counter()
    layers = allowed_layers(territory.national, territory.foreign_land)
    seconds = time.perf_counter() - started
    out = data_dir / ALLOWED_AREAS_FILE
    out.write_text(json.dumps(layers_document(layers), separators=(",", ":")) + "\n")
    counts = ", ".join(f"{layer.reach_m:g} m: {len(layer.vertices)}" for layer in layers)
    print(f"allowed areas drawn in {seconds:.1f} s, vertices by reach: {counts}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("alert_engine/data"))
    write_allowed_areas(parser.parse_args().out)


if __name__ == "__main__":
    main()
