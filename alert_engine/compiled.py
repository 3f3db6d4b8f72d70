"""The one way Tifli compiles a numeric function (numba), typed for the callers' checkers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

_F = TypeVar("_F", bound=Callable[..., Any])

log = logging.getLogger(__name__)

# Compiled once per machine and kept beside the module (``cache``): a process loads it in
# milliseconds. ``fastmath`` stays off: reordered arithmetic could understate a bound.
_cached = numba.njit(cache=True, nogil=True)
_uncached = numba.njit(cache=False, nogil=True)
_said: list[str] = []  # the warning is given once per process, not once per function


def compiled(function: _F) -> _F:
    """``function`` compiled, its machine code cached where numba can write (beside the module,
    or ``NUMBA_CACHE_DIR``). Where it can write nowhere (code on a read-only file system, a
    user without a home), numba refuses to cache at all: then each process compiles its own
    at start-up (``footprint.load_compiled``: seconds) rather than not starting."""
    try:
        return cast(_F, _cached(function))
    except RuntimeError as refused:  # "cannot cache function …: no locator available"
        if not _said:
            _said.append(function.__qualname__)
            log.warning(
                "compiled code cannot be cached (set NUMBA_CACHE_DIR to a writable folder): "
                "each process compiles it at start-up",
                extra={"reason": str(refused)[:200]},
            )
        return cast(_F, _uncached(function))
