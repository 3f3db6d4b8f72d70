from __future__ import annotations

import pytest

from intake_api.lifecycle import InvalidTransition, next_status
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
