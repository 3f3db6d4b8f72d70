"""What the alert engine reads in the messages fetched behind an approval
(``Message.later``): only the same case's resolution or cancellation stops its Alert."""

from __future__ import annotations

from datetime import UTC, datetime

from alert_engine.consumer import closed_right_behind
from shared.bus.base import Message
from shared.events import (
    ReportCancelled,
    ReportClosedData,
    ReportRejected,
    ReportRejectedData,
    ReportResolved,
    serialize_event,
)

CASE, OTHER = "case-1", "case-2"


def _message(key: str, value: bytes, later: tuple[Message, ...] = ()) -> Message:
    return Message(topic="tifli.reports", key=key, value=value, later=later)


def _closed(kind: type[ReportResolved] | type[ReportCancelled], case: str, key: str) -> Message:
    data = ReportClosedData(report_id=case, closed_at=datetime.now(UTC))
    return _message(key, serialize_event(kind(source="test", subject=case, data=data)))


def _approval(*later: Message) -> Message:
    return _message(CASE, b"(the approval: not read here)", later)


def test_the_same_cases_resolution_or_cancellation_behind_it_stops_the_alert() -> None:
    assert closed_right_behind(_approval(_closed(ReportResolved, CASE, CASE)), CASE)
    assert closed_right_behind(_approval(_closed(ReportCancelled, CASE, CASE)), CASE)
    # Further behind, with another case's events between: still this case's closing.
    assert closed_right_behind(
        _approval(_closed(ReportResolved, OTHER, OTHER), _closed(ReportResolved, CASE, CASE)), CASE
    )


def test_nothing_else_behind_it_does() -> None:
    rejected = ReportRejected(source="test", subject=CASE, data=ReportRejectedData(report_id=CASE))
    for behind in (
        (),  # nothing fetched behind it
        (_closed(ReportResolved, OTHER, OTHER),),  # another case, on the same partition
        (_closed(ReportResolved, OTHER, CASE),),  # another case's event under this key
        (_closed(ReportResolved, CASE, OTHER),),  # under another key: not this case's order
        (_message(CASE, serialize_event(rejected)),),  # not a closing that takes it down
        (_message(CASE, b"{not json"),),  # poison: dead-lettered in its own turn
        (_message(CASE, b'{"type": "report.resolved"}'),),  # an event of the wrong shape
    ):
        assert not closed_right_behind(_approval(*behind), CASE), behind
