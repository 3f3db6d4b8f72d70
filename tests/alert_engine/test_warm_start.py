"""A service's first alert does not wait for compilation: ``load_compiled`` (run at start-up)
compiles every compiled step a zone calls, so zones afterwards compile nothing."""

from __future__ import annotations

import json

from tests.own_process import run_module


def test_zones_compile_nothing_after_start_up() -> None:
    # In a fresh process: earlier tests in the run have compiled every step already.
    ran = run_module("tests.alert_engine.first_zones")
    assert ran.returncode == 0, ran.stderr[-3000:]
    found = json.loads(ran.stdout)
    assert found["steps"] >= 20  # the clip's, the hull's, the measurement's, …
    assert found["compiled_now"] == [], "compiled on a first alert, not at start-up"
