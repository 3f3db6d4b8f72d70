"""A service's first alert does not wait for compilation: ``load_compiled`` (run at start-up)
compiles every compiled step a zone calls, so zones afterwards compile nothing."""

from __future__ import annotations

import importlib
import pkgutil

from numba.core.registry import CPUDispatcher

import alert_engine
from alert_engine.footprint import footprint, footprint_of, load_compiled
from alert_engine.pieces import disk_piece
from alert_engine.territory import default_paths, load_territory
from shared.alert_contract import Point


def _compiled_steps() -> dict[str, CPUDispatcher]:
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


def test_zones_compile_nothing_after_start_up() -> None:
    territory = load_territory(*default_paths())
    steps = _compiled_steps()
    assert len(steps) >= 20  # the clip's, the hull's, the measurement's, …
    load_compiled()
    before = {name: len(step.signatures) for name, step in steps.items()}

    footprint(Point(lon=-5.0003, lat=34.0331), 160.0, territory, 100)  # Fès: coast, islet
    footprint(Point(lon=-3.716176289215854, lat=33.02474353683456), 206.18, territory, 100)
    several = [disk_piece(Point(lon=-2.9335, lat=35.1681), 160.0).polygon,
               disk_piece(Point(lon=-1.9086, lat=34.6814), 160.0).polygon]  # fmt: skip
    footprint_of(several, territory, 100)

    compiled_now = sorted(n for n, s in steps.items() if len(s.signatures) != before[n])
    assert compiled_now == [], f"compiled on a first alert, not at start-up: {compiled_now}"
