from __future__ import annotations

import json

import pytest

from dispatcher.fanout import webhook_body
from dispatcher.ordering import replaces
from shared.alert_contract import AlertMessage
from shared.alert_example import ALERT_MESSAGE_EXAMPLE


@pytest.mark.parametrize(
    ("newer", "older", "expected"),
    [
        ("alert.updated", "alert.updated", True),  # only the latest Update is worth sending
        ("alert.updated", "alert.issued", False),  # never an Update before its Alert
        ("alert.cancelled", "alert.issued", True),  # a take-down replaces everything
        ("alert.expired", "alert.updated", True),
    ],
)
def test_which_versions_replace_which(newer: str, older: str, expected: bool) -> None:
    assert replaces(newer, older) is expected


def test_a_partner_gets_its_own_languages_only() -> None:
    """The texts and what each language calls the area: the README promises a partner its
    languages only, and the area's names came in all four."""
    alert = AlertMessage.model_validate(ALERT_MESSAGE_EXAMPLE)
    assert set(alert.area.descriptions) == {"ar", "fr", "zgh", "en"}
    sent = json.loads(webhook_body("alert.issued", "msg_1", alert, ["fr", "zgh"], "https://x/cap"))
    assert [i["language"] for i in sent["alert"]["info"]] == ["fr", "zgh"]
    assert set(sent["alert"]["area"]["descriptions"]) == {"fr", "zgh"}
    assert sent["alert"]["area"]["description"] == alert.area.description
