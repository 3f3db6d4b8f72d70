"""Time zones come from the IANA release the project ships, whatever the host has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

import pytest

from shared.settings import Settings
from shared.time_zones import iana_version, time_zone


def test_morocco_is_on_utc_after_20_september_2026() -> None:
    # Debian's tzdata 2025b, on hosts built before the change, still says UTC+1 here.
    casablanca = time_zone("Africa/Casablanca")
    assert datetime(2026, 12, 5, 12, tzinfo=UTC).astimezone(casablanca).utcoffset() == timedelta(0)
    assert datetime(2026, 6, 5, 12, tzinfo=UTC).astimezone(casablanca).utcoffset() == timedelta(
        hours=1
    )
    assert iana_version() >= "2026f"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", ""])
def test_a_name_the_release_does_not_have_is_refused(name: str) -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        time_zone(name)


def test_the_setting_is_checked_against_the_release() -> None:
    assert Settings(alert_timezone="Europe/Paris").alert_timezone == "Europe/Paris"
    with pytest.raises(ValueError, match="IANA"):
        Settings(alert_timezone="Mars/Olympus")
