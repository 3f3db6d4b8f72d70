"""Key → partition, stable across processes (Python's ``hash`` is salted per process)."""

from __future__ import annotations

import zlib


def partition_for(key: str, partitions: int) -> int:
    return zlib.crc32(key.encode()) % partitions
