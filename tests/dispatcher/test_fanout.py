from __future__ import annotations

import pytest

from dispatcher.ordering import replaces


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
