"""Where a footprint's time goes: ``.venv/bin/python -m bench.zone_stages``.

The 160 km zone around Fès (``bench.zones``' speed case), its stages timed inside the whole
computation rather than each alone: run alone, a stage finds the data it reads already in
the processor's caches and looks up to a third cheaper than it is within a footprint. Each
stage is wrapped in a timer for the run (the wrappers cost about a microsecond a call, far
below the stages), its time summed over each footprint, and the median of those sums
printed, nested as the calls are; the untimed footprint's median is printed beside it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import alert_engine.footprint as footprint_module
import alert_engine.overshoot as overshoot_module
from alert_engine.footprint import footprint, load_compiled
from alert_engine.territory import Territory, default_paths, load_territory
from bench.zones import FES


@dataclass(frozen=True)
class Stage:
    label: str
    owner: object  # the module or class the stage's function is looked up in
    name: str
    depth: int  # nesting, for the printout


# In calling order; each is called by the nearest stage above it of less depth.
STAGES = (
    Stage("geodesic disk", footprint_module, "geodesic_disk", 0),
    Stage("exact zone Z (disk ∩ territory)", footprint_module, "_exact_zone", 0),
    Stage("covering parts", footprint_module, "_covering_parts", 0),
    Stage("Z's hull", footprint_module, "_Hull", 1),
    Stage("land beyond the hull (probes)", footprint_module, "_land_facing", 1),
    Stage("allowed vertices inside the hull", footprint_module, "_vertices_inside", 1),
    Stage("best fit", footprint_module, "_best_fit", 1),
    Stage("tangent directions", footprint_module, "_tangent_directions", 2),
    Stage("tangent cover C", footprint_module, "_cover", 2),
    Stage("C ∩ allowed area A", footprint_module, "_clip_to_allowed", 2),
    Stage("sendable parts", footprint_module, "sendable", 2),
    Stage("short edges dropped", footprint_module, "drop_short_edges", 3),
    Stage("on CAP's grid", footprint_module, "on_grid", 3),
    Stage("cut to fit the budget", footprint_module, "_cut_to_fit", 3),
    Stage("the parts' region", footprint_module, "_covering_region", 2),
    Stage("P covers Z (checked)", footprint_module, "_covers", 0),
    Stage("distance field of Z", footprint_module, "DistanceField", 0),
    Stage("overshoot measured", footprint_module, "measure_overshoot", 0),
    Stage("P's edges over land and sea", overshoot_module, "_edges_by_surface", 1),
    Stage("coasts inside P", overshoot_module, "_coasts_inside", 1),
    Stage("distance search", overshoot_module.DistanceField, "max_over", 1),
)


@contextmanager
def timed_stages(spent: dict[str, float]) -> Iterator[None]:
    """Every stage's function replaced, for the block, by one adding its time (seconds) to
    ``spent[label]``."""
    with ExitStack() as stack:
        for stage in STAGES:
            original = getattr(stage.owner, stage.name)
            stack.enter_context(
                mock.patch.object(stage.owner, stage.name, _timer(original, stage.label, spent))
            )
        yield


def _timer(original: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    return timed


def breakdown(territory: Territory, runs: int) -> tuple[float, dict[str, float]]:
    """The untimed footprint's median (ms), and each stage's median per footprint (ms)."""
    territory.build_indexes()
    for _ in range(10):  # compiled code loaded, tiles cut: as a running engine has them
        footprint(FES, 160.0, territory, 100)
    whole: list[float] = []
    stages: dict[str, list[float]] = defaultdict(list)
    # In turns, so that a change in the machine's speed meanwhile moves both alike.
    for _ in range(runs):
        start = time.perf_counter()
        footprint(FES, 160.0, territory, 100)
        whole.append((time.perf_counter() - start) * 1000.0)
        spent: dict[str, float] = defaultdict(float)
        with timed_stages(spent):
            footprint(FES, 160.0, territory, 100)
        for stage in STAGES:
            stages[stage.label].append(spent[stage.label] * 1000.0)
    return statistics.median(whole), {k: statistics.median(v) for k, v in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    arguments = parser.parse_args()
    territory = load_territory(*default_paths())
    load_compiled()
    whole, stages = breakdown(territory, arguments.runs)
    print(f"footprint 160 km around Fès, untimed: median {whole:.3f} ms")
    print(f"{'stage (inclusive; nested as called)':44} {'median ms':>9} {'share':>6}")
    for stage in STAGES:
        label = "  " * stage.depth + stage.label
        share = stages[stage.label] / whole
        print(f"{label:44} {stages[stage.label]:9.3f} {share:6.1%}")


if __name__ == "__main__":
    main()
