"""The alert time zone's UTC offsets, as a table the console reads: pure, no I/O.

The console shows and takes times in the zone the alert texts use (``TIFLI_ALERT_TIMEZONE``),
whatever the browser's own zone is, and from the IANA release the server ships
(``shared.time_zones``) rather than the browser's copy, which is as old as the browser: the
texts partners publish are written from the server's release, and the console must agree
with them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from shared.time_zones import time_zone

# The years covered: every time a case can hold (a child's last sighting, an alert's end).
FIRST_YEAR = 1970
LAST_YEAR = 2100
_SCAN = timedelta(hours=6)  # offsets last months; no zone changes twice within hours


class OffsetTable(BaseModel):
    """``offset_minutes[i]`` applies from ``starts_ms[i]`` (ms since the epoch, UTC) to the next
    start; the first applies from the start of ``FIRST_YEAR``."""

    zone: str
    starts_ms: list[int]
    offset_minutes: list[int]


@lru_cache(maxsize=4)
def offset_table(zone_name: str) -> OffsetTable:
    """Every change of ``zone_name``'s UTC offset from ``FIRST_YEAR`` to ``LAST_YEAR``, each
    found to the minute (a scan every few hours, then bisection where the offset changed)."""
    zone = time_zone(zone_name)
    start = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    starts, offsets = [start], [_offset_minutes(zone, start)]
    at = start
    while at < end:
        following = at + _SCAN
        offset = _offset_minutes(zone, following)
        if offset != offsets[-1]:
            starts.append(_change_within(zone, at, following))
            offsets.append(offset)
        at = following
    return OffsetTable(
        zone=zone_name,
        starts_ms=[int(s.timestamp() * 1000) for s in starts],
        offset_minutes=offsets,
    )


def _offset_minutes(zone: ZoneInfo, at: datetime) -> int:
    offset = at.astimezone(zone).utcoffset()
    return round(offset.total_seconds() / 60) if offset is not None else 0


def _change_within(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first minute of (before, after] with ``after``'s offset (one change between)."""
    target = _offset_minutes(zone, after)
    while after - before > timedelta(minutes=1):
        middle = before + (after - before) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= before:
            middle = before + timedelta(minutes=1)
        if _offset_minutes(zone, middle) == target:
            after = middle
        else:
            before = middle
    return after
