"""The threads a zone's computation hands its side work to: pure plumbing, no I/O.

GEOS and the compiled steps release the GIL, so work that does not depend on the main line of
a zone's computation (the distance field of Z while P is built, the coasts while P's edges
are sorted) runs on another core meanwhile. Several threads, so that zones computed at once
(the engine's consumers) do not queue behind each other's side work.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

_THREADS = 8


def beside() -> ThreadPoolExecutor:
    """This process's pool (a forked child gets its own: its parent's threads are not in it,
    and a pool that counts them as idle would never run its work)."""
    return _pool_of(os.getpid())


@functools.cache
def _pool_of(pid: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix=f"zone-beside-{pid}")
