"""What a restore undid, from the report events since the backup: each case's closing and
erasure, and what the restored database still lacks of them."""

from __future__ import annotations

from datetime import UTC, datetime

from intake_api.lost_acts import LostActs, lost_acts, to_redo
from shared.events import (
    Event,
    ReportClosedData,
    ReportErased,
    ReportRef,
    ReportRejected,
    ReportRejectedData,
    ReportRenewed,
    ReportRenewedData,
    ReportResolved,
)

_NOW = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)


def _resolved(case: str) -> Event:
    data = ReportClosedData(report_id=case, closed_at=_NOW)
    return ReportResolved(source="test", subject=case, data=data)


def _erased(case: str) -> Event:
    return ReportErased(source="test", subject=case, data=ReportRef(report_id=case))


def test_each_case_keeps_its_closing_and_its_erasure_in_the_order_they_came() -> None:
    renewed = ReportRenewed(
        source="test",
        subject="c",
        data=ReportRenewedData(report_id="c", renewed_at=_NOW, expires_at=_NOW),
    )
    rejected = ReportRejected(source="test", subject="d", data=ReportRejectedData(report_id="d"))
    found = lost_acts([_resolved("a"), _erased("b"), renewed, _erased("a"), rejected, _erased("d")])
    assert found == {
        "a": LostActs("resolve", erased=True),
        "b": LostActs(erased=True),  # expired, then erased: no closing
        "d": LostActs("reject", erased=True),
    }
    assert list(found) == ["a", "b", "d"]


def test_only_what_the_database_lacks_is_done_again_closing_first() -> None:
    lost = LostActs("resolve", erased=True)
    assert to_redo(lost, "approved", erased=False) == ("resolve", "erase")
    assert to_redo(lost, "expired", erased=False) == ("resolve", "erase")
    assert to_redo(lost, "resolved", erased=False) == ("erase",)
    assert to_redo(lost, "resolved", erased=True) == ()
    assert to_redo(LostActs("cancel"), "submitted", erased=False) == ("cancel",)
    assert to_redo(LostActs("cancel"), "cancelled", erased=False) == ()
