"""The case lifecycle as a pure table:

submitted → approved (alert active) → resolved | cancelled | expired;  submitted → rejected.

"expired" is not stored: an approved case whose time window has passed *is* expired (the
alert engine takes the alert down at that moment). A child found after expiry is still
recorded as resolved.
"""

from __future__ import annotations

from typing import Literal

Action = Literal[
    "approve", "reject", "resolve", "cancel", "add_sighting", "trust_sighting", "renew", "correct"
]

_TRANSITIONS: dict[tuple[str, Action], str] = {
    ("submitted", "approve"): "approved",
    ("submitted", "reject"): "rejected",
    ("submitted", "cancel"): "cancelled",
    ("submitted", "resolve"): "resolved",
    ("submitted", "add_sighting"): "submitted",
    ("submitted", "trust_sighting"): "submitted",
    ("submitted", "correct"): "submitted",
    ("approved", "resolve"): "resolved",
    ("approved", "cancel"): "cancelled",
    ("approved", "add_sighting"): "approved",
    ("approved", "trust_sighting"): "approved",
    ("approved", "renew"): "approved",
    ("approved", "correct"): "approved",
    ("expired", "resolve"): "resolved",
    ("expired", "cancel"): "cancelled",
    ("expired", "add_sighting"): "expired",
    ("expired", "trust_sighting"): "expired",
}


# How an action reads in a sentence ("cannot add a sighting to a report that is resolved").
_ACTS = {
    "add_sighting": "add a sighting to",
    "trust_sighting": "trust a sighting of",
    "correct": "correct",
}


class InvalidTransition(Exception):
    def __init__(self, status: str, action: Action) -> None:
        super().__init__(f"cannot {_ACTS.get(action, action)} a report that is {status}")
        self.status = status
        self.action = action


def next_status(status: str, action: Action) -> str:
    """The report's status after ``action``; InvalidTransition if the action is not allowed from
    ``status``."""
    try:
        return _TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(status, action) from None
