"""The footprint's stage breakdown (``bench.zone_stages``) times what a footprint runs: every
stage it names is called, nested stages fit in the stage that calls them, and the timers
leave the footprint as it was."""

from __future__ import annotations

from collections import defaultdict

import shapely

from alert_engine.footprint import footprint
from alert_engine.territory import default_paths, load_territory
from bench.zone_stages import STAGES, breakdown, timed_stages
from bench.zones import FES


def test_every_stage_is_timed_within_the_stage_that_calls_it() -> None:
    territory = load_territory(*default_paths())
    whole, stages = breakdown(territory, runs=3)
    assert whole > 0
    # A renamed or no longer called function would show as a stage that never ran.
    assert all(stages[stage.label] > 0 for stage in STAGES), stages
    parents: list[str] = []
    for stage in STAGES:
        del parents[stage.depth :]
        if parents:
            # Timed inside its caller's timer: the caller's time holds it (medians of sums
            # over the same runs; a nested stage is called within each of its caller's calls).
            assert stages[stage.label] <= stages[parents[-1]], (stage.label, parents[-1])
        parents.append(stage.label)


def test_the_timers_leave_the_footprint_unchanged() -> None:
    territory = load_territory(*default_paths())
    plain = footprint(FES, 160.0, territory, 100)
    spent: dict[str, float] = defaultdict(float)
    with timed_stages(spent):
        timed = footprint(FES, 160.0, territory, 100)
    assert shapely.equals_exact(timed.polygon, plain.polygon, tolerance=0.0)
    assert (timed.overshoot_land_m, timed.overshoot_sea_m) == (
        plain.overshoot_land_m,
        plain.overshoot_sea_m,
    )
    assert set(spent) == {stage.label for stage in STAGES}
    # Restored afterwards: a footprint outside the block adds nothing.
    before = dict(spent)
    footprint(FES, 160.0, territory, 100)
    assert spent == before
