"""The side-work pool keeps working in a process forked after it was used (a service's workers
may be forked from a parent that already drew a zone)."""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import TimeoutError as FutureTimeout

from alert_engine.side_work import beside


def _double(value: int) -> int:
    return 2 * value


def _child() -> None:
    try:
        result = beside().submit(_double, 21).result(timeout=10)
    except FutureTimeout:
        sys.exit(3)
    sys.exit(0 if result == 42 else 4)


def test_a_forked_child_runs_its_side_work() -> None:
    assert beside().submit(_double, 1).result(timeout=10) == 2  # the parent's pool has a thread
    child = multiprocessing.get_context("fork").Process(target=_child)
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
