"""The one way Tifli compiles a numeric function (numba), typed for the callers' checkers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

_F = TypeVar("_F", bound=Callable[..., Any])

# Compiled once per machine and kept beside the module (``cache``): a process loads it in
# milliseconds. ``fastmath`` stays off: reordered arithmetic could understate a bound.
compiled = cast(Callable[[_F], _F], numba.njit(cache=True, nogil=True))
