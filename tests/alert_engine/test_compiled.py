"""Compiled code where numba can cache nothing: the function is compiled without a cache, and
the service starts (it refused to import before: the image's user could write nowhere)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from alert_engine import compiled as compiled_module


def _refusing(function: Any) -> Any:
    raise RuntimeError(f"cannot cache function {function.__name__!r}: no locator available")


def test_a_function_that_cannot_be_cached_is_compiled_without_a_cache(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(compiled_module, "_cached", _refusing)
    monkeypatch.setattr(compiled_module, "_said", [])

    def total(values: Any) -> float:
        result = 0.0
        for value in values:
            result += value
        return result

    def largest(values: Any) -> float:
        return float(values.max())

    with caplog.at_level(logging.WARNING, logger=compiled_module.__name__):
        summed = compiled_module.compiled(total)
        biggest = compiled_module.compiled(largest)

    assert summed(np.arange(5.0)) == 10.0 and biggest(np.arange(5.0)) == 4.0
    assert hasattr(summed, "py_func")  # compiled by numba all the same
    assert [r.message for r in caplog.records] == [  # said once, not once per function
        "compiled code cannot be cached (set NUMBA_CACHE_DIR to a writable folder): "
        "each process compiles it at start-up"
    ]
