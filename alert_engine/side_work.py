"""The threads a zone's computation hands its side work to: pure plumbing, no I/O.

GEOS and the compiled steps release the GIL, so work that does not depend on the main line of
a zone's computation (the distance field of Z while P is built, the coasts while P's edges
are sorted) runs on another core meanwhile. The engine computes one zone at a time in a
process; the pool has several threads so that a zone's side tasks do not queue behind each
other. A side task never uses a prepared geometry that the main line or another task uses
at the same time: GEOS's prepared geometries are not thread-safe.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

_THREADS = 8
_T = TypeVar("_T")


class SideWork:
    """What a block hands to other threads (``alongside``)."""

    def __init__(self) -> None:
        self._submitted: list[Future[Any]] = []

    def submit(self, function: Callable[..., _T], /, *args: Any) -> Future[_T]:
        future = _pool_of(os.getpid()).submit(function, *args)
        self._submitted.append(future)
        return future


@contextmanager
def alongside() -> Iterator[SideWork]:
    """Side work for the block: once the block is left, even by an exception, all of it has
    finished (none may still be using the zone's geometries when the next zone starts)."""
    work = SideWork()
    try:
        yield work
    finally:
        wait(work._submitted)


@functools.cache
def _pool_of(pid: int) -> ThreadPoolExecutor:
    # One per process: a forked child does not have its parent's threads, and a pool that
    # counted them as idle would never run its work.
    return ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix=f"zone-beside-{pid}")
