"""Time zones from the IANA database the project ships (PyPI ``tzdata``, pinned in
``uv.lock``), never from the host's copy.

A host's copy is as old as its image: Debian's tzdata 2025b still has Morocco on UTC+1 after
September 2026, where IANA 2026f has it on UTC+0 from 20 September 2026. Alert texts tell
people at what time a child was last seen; an hour off sends them looking at the wrong
moment. Every service reads the same release, whatever host it runs on, and a new one comes
with the lock file (``uv lock --upgrade-package tzdata``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@cache
def iana_version() -> str:
    """The release read, e.g. ``2026f`` (the first line of its source: ``# version 2026f``)."""
    with resources.files("tzdata.zoneinfo").joinpath("tzdata.zi").open("r", encoding="utf-8") as zi:
        return zi.readline().removeprefix("# version").strip()


@cache
def _names() -> frozenset[str]:
    return frozenset(resources.files("tzdata").joinpath("zones").read_text("utf-8").split())


@cache
def time_zone(name: str) -> ZoneInfo:
    """The zone called ``name`` (e.g. ``Africa/Casablanca``) in the shipped release; a
    ``ZoneInfoNotFoundError`` if the release has no such zone."""
    if name not in _names():  # also keeps the name from reaching outside the package's files
        raise ZoneInfoNotFoundError(f"no time zone {name!r} in IANA release {iana_version()}")
    with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as data:
        return ZoneInfo.from_file(data, key=name)
