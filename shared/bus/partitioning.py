"""Key → partition, stable across processes (Python's ``hash`` is salted per process)."""

from __future__ import annotations

import zlib


def partition_for(key: str, partitions: int) -> int:
    """The partition of ``key``: stable across processes and runs, so one case's events stay in
    order."""
    return zlib.crc32(key.encode()) % partitions
