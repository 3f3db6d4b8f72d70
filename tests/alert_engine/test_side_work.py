"""Side work: done before its block is left, even by an exception, and done in a process forked
after the pool was used (a service's workers may be forked from a parent that drew a zone)."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

from alert_engine.side_work import alongside


def _double(value: int) -> int:
    return 2 * value


def _child() -> None:
    try:
        with alongside() as side:
            result = side.submit(_double, 21).result(timeout=10)
    except FutureTimeout:
        sys.exit(3)
    sys.exit(0 if result == 42 else 4)


def test_a_forked_child_runs_its_side_work() -> None:
    with alongside() as side:
        assert side.submit(_double, 1).result(timeout=10) == 2  # the parent's pool has a thread
    child = multiprocessing.get_context("fork").Process(target=_child)
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0


def test_a_block_left_by_an_exception_waits_for_its_side_work() -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def task() -> None:
        started.set()
        release.wait(10)
        finished.set()

    # Released a moment after the block has raised: the block must not be left before that.
    timer = threading.Timer(0.05, release.set)

    def main_line() -> None:
        with alongside() as side:
            side.submit(task)
            assert started.wait(10)
            timer.start()
            raise ValueError("main line failed")

    with pytest.raises(ValueError, match="main line"):
        main_line()
    assert finished.is_set()
    timer.join()
