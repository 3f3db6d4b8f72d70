from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intake_api.lifecycle import InvalidTransition, next_status
from intake_api.schemas import born_in_the_future
from intake_api.sealing import merge_restricted, split_restricted
from services.testbed.sample_report import report_body
from shared.sealing import Sealer


def test_lifecycle() -> None:
    assert next_status("submitted", "approve") == "approved"
    assert next_status("approved", "resolve") == "resolved"
    assert next_status("approved", "renew") == "approved"
    assert next_status("expired", "resolve") == "resolved"  # found after the window closed
    for status in ("rejected", "resolved", "cancelled", "expired"):
        with pytest.raises(InvalidTransition):
            next_status(status, "approve")
        with pytest.raises(InvalidTransition):
            next_status(status, "renew")  # renewal is only for a running alert
    with pytest.raises(InvalidTransition):
        next_status("submitted", "renew")


def test_restricted_fields_are_split_out_and_sealed() -> None:
    report = report_body(notes="Father has a prior custody dispute")
    public, restricted = split_restricted(report)
    flat_public = str(public)
    for secret in ("Benali", "+212 600", "Inspector Idrissi", "custody"):
        assert secret not in flat_public
    assert public["child"]["given_name"] == "Amina"
    assert merge_restricted(public, restricted) == report
    sealer = Sealer(Sealer.new_key())
    token = sealer.seal(restricted)
    assert "Benali" not in token
    assert sealer.unseal(token) == restricted
    with pytest.raises(Exception):  # noqa: B017,PT011 - any key but the right one fails
        Sealer(Sealer.new_key()).unseal(token)


def test_a_baby_born_after_midnight_in_morocco_is_not_born_in_the_future() -> None:
    # 00:30 an hour ahead of UTC (Paris; Morocco until September 2026) on 5 December is
    # 23:30 UTC on the 4th.
    just_after_midnight = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert not born_in_the_future(date(2026, 12, 5), just_after_midnight)
    # A date after today everywhere is the future (at 23:30 UTC, the 6th starts at 10:00 UTC).
    assert born_in_the_future(date(2026, 12, 6), just_after_midnight)
    assert not born_in_the_future(date(2026, 12, 6), datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    assert born_in_the_future(date(2026, 12, 6), datetime(2026, 12, 5, 9, 59, tzinfo=UTC))
