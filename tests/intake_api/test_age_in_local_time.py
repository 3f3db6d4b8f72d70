"""A child turns 18 at midnight where the alert's people live, not at midnight UTC: an hour
ahead of UTC (Morocco's offset until September 2026) the hour before the UTC date changes is
already the birthday, and an approval then must refuse to alert for an adult."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import FakeClock, embedded_settings, start_stack

# A zone an hour ahead of UTC all year.
UTC_PLUS_ONE = "Etc/GMT-1"


def _eve_in_utc(after: datetime) -> datetime:
    """The first 23:30 UTC after ``after`` whose next day is not 29 February (that birthday
    has no 18th anniversary of the same date in most years)."""
    day = after.date()
    while True:
        eve = datetime.combine(day, time(23, 30), UTC)
        if (
            eve > after + timedelta(minutes=1)
            and (day + timedelta(days=1)).strftime("%m%d") != "0229"
        ):
            return eve
        day += timedelta(days=1)


def _born_18_years_before(day: date) -> str:
    return day.replace(year=day.year - 18).isoformat()


async def test_a_child_is_18_from_local_midnight(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    eve = _eve_in_utc(now)  # 00:30 in the zone, on the local date after eve's UTC date
    birthday = eve.date() + timedelta(days=1)
    clock = FakeClock(eve - timedelta(hours=1))  # 23:30 in the zone: still 17 there
    settings = embedded_settings(tmp_path, alert_timezone=UTC_PLUS_ONE)
    stack, server = await start_stack(settings, clock)
    try:
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            ids = []
            for _ in range(2):
                body = report_body()
                body["child"].pop("age")
                body["child"]["birth_date"] = _born_18_years_before(birthday)
                seen = min(now, clock.moment) - timedelta(minutes=30)
                body["last_seen"]["at"] = seen.isoformat()
                created = await police.post("/v1/reports", json=body)
                assert created.status_code == 201, created.text  # 17 on today's UTC date
                ids.append(created.json()["id"])
            approved = await reviewer.post(f"/v1/reports/{ids[0]}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text

            clock.advance(timedelta(hours=1))  # 00:30 in the zone, 23:30 UTC: 18 there
            refused = await reviewer.post(f"/v1/reports/{ids[1]}/approve", json=CRITERIA)
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == "criteria.child_under_18"
    finally:
        await server.__aexit__(None, None, None)
