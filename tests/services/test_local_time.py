"""The alert zone's offset table the console reads its clock from: the same offsets as the
IANA release the server ships (``shared.time_zones``) at every instant, each change found to
the minute."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta

import pytest

from services.console.local_time import FIRST_YEAR, LAST_YEAR, offset_table
from services.testbed.stack import Stack
from shared.time_zones import time_zone


def table_offset(zone_name: str, moment: datetime) -> int:
    table = offset_table(zone_name)
    index = bisect.bisect_right(table.starts_ms, int(moment.timestamp() * 1000)) - 1
    return table.offset_minutes[max(index, 0)]


def zone_offset(zone_name: str, moment: datetime) -> int:
    offset = moment.astimezone(time_zone(zone_name)).utcoffset()
    assert offset is not None
    return round(offset.total_seconds() / 60)


@pytest.mark.parametrize("zone_name", ["Africa/Casablanca", "Europe/Paris", "Asia/Kolkata"])
def test_the_table_gives_the_zones_offset_at_every_instant(zone_name: str) -> None:
    rng = random.Random(20261205)
    span = datetime(LAST_YEAR, 12, 31, tzinfo=UTC) - datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    for _ in range(3000):
        moment = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC) + span * rng.random()
        assert table_offset(zone_name, moment) == zone_offset(zone_name, moment), moment


def test_each_change_is_found_to_the_minute() -> None:
    table = offset_table("Africa/Casablanca")
    assert len(table.starts_ms) > 50  # Morocco's many changes, Ramadan's each year to 2026
    for start_ms, offset in zip(table.starts_ms[1:], table.offset_minutes[1:], strict=True):
        start = datetime.fromtimestamp(start_ms / 1000, UTC)
        assert zone_offset("Africa/Casablanca", start) == offset
        assert zone_offset("Africa/Casablanca", start - timedelta(minutes=1)) != offset
    # Morocco in 2026: UTC+1, UTC+0 for Ramadan from 15 February 02:00 UTC to 22 March, then
    # UTC+0 for good from 20 September 01:00 UTC (IANA 2026f).
    ramadan = datetime(2026, 2, 15, 2, tzinfo=UTC)
    back_on_utc = datetime(2026, 9, 20, 1, tzinfo=UTC)
    assert int(ramadan.timestamp() * 1000) in table.starts_ms
    assert int(back_on_utc.timestamp() * 1000) == table.starts_ms[-1]
    assert table_offset("Africa/Casablanca", datetime(2026, 12, 5, tzinfo=UTC)) == 0


async def test_the_console_is_served_the_deployments_alert_zone(stack: Stack) -> None:
    async with stack.client() as anonymous:
        answer = await anonymous.get("/console/time-zone.json")
    assert answer.status_code == 200
    served = answer.json()
    assert served["zone"] == stack.embedded.settings.alert_timezone
    assert served == offset_table(served["zone"]).model_dump()
