"""The access rules as a pure table (intake_api/access.py): reach, four eyes, sightings."""

from __future__ import annotations

import pytest

from intake_api.access import Case, reachable, refusal
from shared.auth import Principal

SUBMIT = frozenset({"reports:submit", "reports:read"})
REVIEW = frozenset({"reports:submit", "reports:read", "reports:review"})
CASA_DESK = Principal("desk", "casa desk", SUBMIT, "CASA")
CASA_CHIEF = Principal("chief", "casa chief", REVIEW, "CASA")
RABAT_CHIEF = Principal("rabat", "rabat chief", REVIEW, "RABAT")
RABAT_PATROL = Principal("patrol", "rabat patrol", frozenset({"sightings:submit"}), "RABAT")
CENTRAL = Principal("central", "central review", REVIEW, None)


def casa_case(status: str, submitted_by: str = "desk", written_by: str | None = None) -> Case:
    return Case(
        unit="CASA",
        submitted_by_key=submitted_by,
        status=status,
        content_by_keys=frozenset({written_by} if written_by else ()),
    )


@pytest.mark.parametrize(
    ("principal", "case_unit", "act", "expected"),
    [
        (CASA_DESK, "CASA", "read", True),
        (RABAT_CHIEF, "CASA", "read", False),
        (RABAT_CHIEF, "CASA", "approve", False),
        (CENTRAL, "CASA", "approve", True),
        (CASA_CHIEF, None, "read", False),  # a national case: national keys only
        (CENTRAL, None, "read", True),
        (RABAT_PATROL, "CASA", "add_sighting", True),  # its scope reaches every case…
        (RABAT_PATROL, "CASA", "read", False),  # …for sightings only
        (RABAT_PATROL, "CASA", "trust_sighting", False),
    ],
)
def test_reach(principal: Principal, case_unit: str | None, act: str, expected: bool) -> None:
    assert reachable(principal, act, case_unit) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("principal", "act", "case", "refused"),
    [
        (CASA_CHIEF, "approve", casa_case("submitted", "chief"), "Four eyes"),
        (CASA_CHIEF, "approve", casa_case("submitted"), None),
        (CASA_CHIEF, "reject", casa_case("submitted", "chief"), "Four eyes"),
        (CASA_CHIEF, "renew", casa_case("approved", "chief"), "Four eyes"),
        (CASA_CHIEF, "renew", casa_case("approved"), None),
        # The key that last wrote what partners show does not publish it alone either.
        (CASA_CHIEF, "approve", casa_case("submitted", written_by="chief"), "Four eyes"),
        (CENTRAL, "approve", casa_case("submitted", written_by="chief"), None),
        (CASA_CHIEF, "renew", casa_case("approved", written_by="chief"), "Four eyes"),
        # What the submitter wrote, a reviewer other than the submitter approves.
        (CASA_CHIEF, "approve", casa_case("submitted", written_by="desk"), None),
        (CASA_CHIEF, "cancel", casa_case("approved", "chief"), "Four eyes"),
        (CASA_CHIEF, "cancel", casa_case("expired", "chief"), "Four eyes"),
        (CASA_CHIEF, "cancel", casa_case("submitted", "chief"), None),  # a withdrawal
        (CASA_DESK, "cancel", casa_case("submitted"), None),
        # A colleague's report waiting for review: not the desk's to withdraw; a reviewer may.
        (CASA_DESK, "cancel", casa_case("submitted", "other desk"), "Forbidden"),
        (CASA_CHIEF, "cancel", casa_case("submitted", "other desk"), None),
        (CASA_DESK, "cancel", casa_case("approved"), "Forbidden"),  # no review scope
        (CASA_CHIEF, "resolve", casa_case("approved", "chief"), None),  # immediate
        (CASA_DESK, "resolve", casa_case("approved", "other desk"), None),  # public: anyone
        # The child is found: any key of the unit closes the case, before review as after.
        (CASA_DESK, "resolve", casa_case("submitted", "other desk"), None),
        (CASA_DESK, "resolve", casa_case("submitted"), None),
        (CASA_CHIEF, "resolve", casa_case("submitted", "other desk"), None),
        (CASA_DESK, "add_sighting", casa_case("approved"), None),
        (CENTRAL, "add_sighting", casa_case("approved"), None),
    ],
)
def test_four_eyes(principal: Principal, act: str, case: Case, refused: str | None) -> None:
    decision = refusal(principal, act, case, trusted=True)  # type: ignore[arg-type]
    assert (decision.title if decision else None) == refused


def test_a_sighting_from_outside_is_untrusted() -> None:
    case = casa_case("approved")
    assert refusal(RABAT_PATROL, "add_sighting", case, trusted=False) is None
    refused = refusal(RABAT_PATROL, "add_sighting", case, trusted=True)
    assert refused is not None and "untrusted" in refused.detail
    # A national key holding only sightings:submit is outside too: it cannot vouch.
    national_patrol = Principal("np", "np", frozenset({"sightings:submit"}), None)
    assert refusal(national_patrol, "add_sighting", case, trusted=True) is not None
