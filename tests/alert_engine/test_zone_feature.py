"""The zone as a Feature (``GET /v1/alerts/{id}/zone``) dates its version as the alert does."""

from __future__ import annotations

from alert_engine.routes import zone_feature
from shared.alert_contract import AlertMessage
from shared.alert_example import ALERT_MESSAGE_EXAMPLE


def test_the_zone_s_window_is_written_as_every_other_time_of_the_api() -> None:
    """A client that compares the zone's window with the alert's, or parses times with one
    pattern, reads the same text for the same instant (``…Z``, not ``…+00:00``)."""
    message = AlertMessage.model_validate(ALERT_MESSAGE_EXAMPLE)
    properties = zone_feature(message.alert_id, "active", message)["properties"]
    answered = message.model_dump(mode="json")
    assert properties["effective"] == answered["effective"]
    assert properties["expires"] == answered["expires"]
    assert properties["effective"].endswith("Z")
