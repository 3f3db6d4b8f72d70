"""A process's first zones after ``load_compiled``: ``python -m tests.alert_engine.first_zones``
prints, as JSON, the compiled steps those zones still compiled (none is right). Run as a
process of its own by ``test_warm_start``: in the test run, earlier tests have compiled every
step already, and a step the start-up misses would go unseen."""

from __future__ import annotations

import importlib
import json
import pkgutil

from numba.core.registry import CPUDispatcher

import alert_engine
from alert_engine.footprint import footprint, footprint_of, load_compiled
from alert_engine.pieces import disk_piece
from alert_engine.territory import default_paths, load_territory
from shared.alert_contract import Point


def compiled_steps() -> dict[str, CPUDispatcher]:
    modules = [
        importlib.import_module(f"alert_engine.{info.name}")
        for info in pkgutil.iter_modules(alert_engine.__path__)
    ]
    return {
        f"{module.__name__}.{name}": value
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, CPUDispatcher) and value.__module__ == module.__name__
    }


def main() -> None:
    territory = load_territory(*default_paths())
    steps = compiled_steps()
    load_compiled()
    before = {name: len(step.signatures) for name, step in steps.items()}

    footprint(Point(lon=-5.0003, lat=34.0331), 160.0, territory, 100)  # Fès: coast, islet
    footprint(Point(lon=-3.716176289215854, lat=33.02474353683456), 206.18, territory, 100)
    several = [disk_piece(Point(lon=-2.9335, lat=35.1681), 160.0).polygon,
               disk_piece(Point(lon=-1.9086, lat=34.6814), 160.0).polygon]  # fmt: skip
    footprint_of(several, territory, 100)

    compiled_now = sorted(n for n, s in steps.items() if len(s.signatures) != before[n])
    print(json.dumps({"steps": len(steps), "compiled_now": compiled_now}))


if __name__ == "__main__":
    main()
