"""Who may do what to a case: a unit sees its own cases only, and an act that reaches the
public needs a second person (four eyes). Pure rules, no I/O.

Three questions, asked in this order by the use cases:

1. **Is the case there for this key?** A unit key sees its own unit's cases only; another
   unit's case answers exactly like a missing one (404), so case ids do not leak existence.
   National keys see every case. One exception: a key with ``sightings:submit`` may add a
   sighting to any case (a patrol elsewhere saw the child) without otherwise seeing it.
2. **Does the lifecycle allow the act now?** (``lifecycle.next_status``: 409 otherwise.)
3. **May this key do it?** Four eyes on every act that reaches the public: approval, renewal,
   the cancellation of a case that went public and a correction of what its partners show
   need a reviewer who did not submit it; a
   submitter cannot reject its own case either (it withdraws it instead, with cancel, while it
   is only submitted; another submitter cannot withdraw it, a reviewer can). Resolution (the
   child is found) stays immediate for every key of the owning unit and for reviewers, before
   review as after: speed of takedown matters more than a second pair of eyes, and a found
   child's report left waiting could still be approved and go public. A sighting from outside
   the case's reach is recorded untrusted until the owning unit or a reviewer trusts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.auth import Principal

Act = Literal[
    "read",
    "approve",
    "reject",
    "renew",
    "cancel",
    "resolve",
    "add_sighting",
    "trust_sighting",
    "erase",
    "correct",
]


@dataclass(frozen=True)
class Case:
    unit: str | None  # None: a national case
    submitted_by_key: str
    status: str  # as seen now: "expired" when an approved case's window has passed
    # The keys that changed what partners show since the submission.
    content_by_keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Refusal:
    title: str
    detail: str


def sees(principal: Principal, case_unit: str | None) -> bool:
    """Whether the key sees a case of ``case_unit`` at all (reads, lists, acts)."""
    return principal.national or principal.unit == case_unit


def reads_contents(principal: Principal) -> bool:
    """Whether an act's answer may carry the case's contents (the report, its sightings, the
    closing note): only to a key that may read cases (``reports:read``). Else an act, even
    one that changes nothing (an empty correction), would be a way round that scope."""
    return "reports:read" in principal.scopes


def reachable(principal: Principal, act: Act, case_unit: str | None) -> bool:
    """Question 1: False means the key is answered as if the case did not exist."""
    if act == "add_sighting" and "sightings:submit" in principal.scopes:
        return True
    return sees(principal, case_unit)


def from_outside(principal: Principal, case: Case) -> bool:
    """A sighting this key adds comes from outside the case's reach (untrusted only)."""
    return not (sees(principal, case.unit) and "reports:submit" in principal.scopes)


_FOUR_EYES = "Four eyes"


def refusal(
    principal: Principal, act: Act, case: Case, *, trusted: bool = False, shown: bool = False
) -> Refusal | None:
    """Question 3, for a case the key reaches and an act the lifecycle allows; None: allowed.
    ``trusted``: for ``add_sighting``, whether the sighting claims to be trusted. ``shown``:
    for ``correct``, whether the correction changes what partners show of a published case."""
    own_submission = case.submitted_by_key == principal.key_id
    # What partners show was approved by a second pair of eyes: so is a change of it.
    reviewed = "reports:review" in principal.scopes and not own_submission
    if act == "correct" and shown and not reviewed:
        return Refusal(
            _FOUR_EYES,
            "The alert is out: a correction of what partners show (the child, the photos, "
            "the suspected vehicle or companion) needs a reviewer who did not submit the "
            "case. Corrections of the rest (the guardian's contact, notes) need not.",
        )
    if act == "erase" and not principal.national:
        return Refusal(
            "Forbidden",
            "Erasing a case before its retention time needs a national key (an operator's).",
        )
    if act in ("approve", "renew") and own_submission:
        verb = "approve it" if act == "approve" else "renew its alert"
        return Refusal(
            _FOUR_EYES,
            f"The key that submitted a report cannot {verb}: another reviewer must "
            "(an act that reaches the public needs a second pair of eyes).",
        )
    if act in ("approve", "renew") and principal.key_id in case.content_by_keys:
        # Else a reviewer could write the child's description or photos and publish them
        # alone: the second pair of eyes is on what is published, not only on who filed it.
        # Every writer counts, not the last: a colleague's later small edit must not clear
        # one who rewrote the photos.
        verb = "approve it" if act == "approve" else "renew its alert"
        return Refusal(
            _FOUR_EYES,
            "This key changed what partners show of the case (the child, the photos, the "
            "suspected vehicle or companion, or where the child was last seen or trusted "
            f"seen before approval), so it cannot {verb}: another reviewer must, who did not "
            "write what goes out.",
        )
    if act == "reject" and own_submission:
        return Refusal(
            _FOUR_EYES,
            "The key that submitted a report cannot reject it: another reviewer must. "
            "To withdraw your own report while it is only submitted, cancel it.",
        )
    # A withdrawal is the submitter's own; a colleague's report goes to review, where a
    # reviewer may cancel it (a duplicate, a report filed by mistake). Resolving is not a
    # withdrawal: whoever of the unit learns that the child is found closes the case, or a
    # reviewer who has not heard could still publish it.
    withdrawing = act == "cancel" and case.status == "submitted"
    if withdrawing and not own_submission and "reports:review" not in principal.scopes:
        return Refusal(
            "Forbidden",
            "A report still waiting for review is withdrawn by the key that submitted it, or "
            "by a reviewer ('reports:review'); this key is neither. If the child is found, "
            "resolve the case instead (any key of the unit).",
        )
    if act == "cancel" and case.status != "submitted":
        # The case went public: its cancellation reaches every partner.
        if "reports:review" not in principal.scopes:
            return Refusal(
                "Forbidden",
                "Cancelling a case whose alert went out needs the 'reports:review' scope; "
                "a submitter may withdraw a case only while it is still submitted. If the "
                "child is found, resolve the case instead.",
            )
        if own_submission:
            return Refusal(
                _FOUR_EYES,
                "The key that submitted a report cannot cancel its alert: another reviewer "
                "must. If the child is found, resolve the case instead (immediate).",
            )
    if act == "add_sighting" and trusted and from_outside(principal, case):
        return Refusal(
            "Untrusted sighting",
            "Only a key with reports:submit that reaches the case (of its unit, or national) "
            "sends a trusted sighting; from this key it is recorded untrusted: send "
            "'trusted': false. The owning unit or a reviewer can then trust it "
            "(POST /v1/reports/{id}/sightings/{sighting_id}/trust).",
        )
    return None
