"""The acts a database restore undid, found again in the events published since the backup.

A restore brings the database back to the backup's moment, while the report events published
after it stay on the topic: the cases closed or erased since then are open, or hold their
personal data, again. Pure: events in, what each case must have done again out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from intake_api.retention import CLOSED
from shared.events import Event

Closing = Literal["resolve", "cancel", "reject"]
Redo = Literal["resolve", "cancel", "reject", "erase"]

# A rejected report comes back waiting for review, where a reviewer could approve it.
_CLOSINGS: dict[str, Closing] = {
    "report.resolved": "resolve",
    "report.cancelled": "cancel",
    "report.rejected": "reject",
}
_ERASED = "report.erased"


@dataclass(frozen=True)
class LostActs:
    """What the events since the backup did to one case: how it closed, whether it was
    erased (an expired case is erased without a closing; a closed one after it)."""

    closing: Closing | None = None
    erased: bool = False


def lost_acts(events: Iterable[Event]) -> dict[str, LostActs]:
    """The case id → its closing and erasure, from events in their order (a case's events
    share one partition, so they come in the order they happened); the cases in the order
    their first such event came."""
    found: dict[str, LostActs] = {}
    for event in events:
        closing = _CLOSINGS.get(event.type)
        if closing is None and event.type != _ERASED:
            continue
        before = found.get(event.subject, LostActs())
        found[event.subject] = (
            LostActs(closing, before.erased)
            if closing is not None
            else LostActs(before.closing, erased=True)
        )
    return found


def to_redo(lost: LostActs, status: str, erased: bool) -> tuple[Redo, ...]:
    """What the case, ``status`` and ``erased`` as the restored database has it, must have
    done again, in order: its closing, while the database has it open (``expired`` is open:
    its child may still be found), then its erasure, which needs an ended case. Nothing for a
    case the database has as the events left it: running again changes nothing."""
    redo: list[Redo] = []
    if lost.closing is not None and status not in CLOSED:
        redo.append(lost.closing)
    if lost.erased and not erased:
        redo.append("erase")
    return tuple(redo)
