"""Files only their owner may read (the data key, the development CAP key)."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Writes ``data`` to a new ``path`` created owner-only: never readable by others, not
    even between its creation and a later chmod."""
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
