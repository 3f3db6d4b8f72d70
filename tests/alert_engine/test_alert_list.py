"""GET /v1/alerts and /v1/alerts/{id} over real HTTP: each alert with its own current message
and history, pages that follow on, and a page's versions read in one query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from services.testbed.ended_alerts import ended_alert_rows
from services.testbed.stack import Stack

NOW = datetime.now(UTC).replace(microsecond=0)


async def _seed(stack: Stack, versions_of: dict[str, int]) -> None:
    """Ended alerts (nothing for the engine's timers), the first one the most recent."""
    async with stack.embedded.sessions() as session, session.begin():
        for n, (alert_id, versions) in enumerate(versions_of.items()):
            session.add_all(
                ended_alert_rows(
                    alert_id,
                    versions,
                    effective=NOW - timedelta(minutes=n),
                    expires=NOW - timedelta(seconds=n),
                    state="expired" if n % 2 else "cancelled",
                    radius_km=20.0 + n,
                )
            )


@contextmanager
def version_queries(stack: Stack) -> Iterator[list[str]]:
    """The statements that read alert_versions while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "alert_versions" in statement:
            seen.append(statement)

    engine = stack.embedded.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_each_alert_is_listed_with_its_own_versions(stack: Stack) -> None:
    versions_of = {"alert-a": 3, "alert-b": 1, "alert-c": 2, "alert-d": 4, "alert-e": 1}
    await _seed(stack, versions_of)
    async with stack.client("reader") as reader:
        with version_queries(stack) as queries:
            first = (await reader.get("/v1/alerts", params={"limit": 4})).json()
        rest = (await reader.get("/v1/alerts", params={"limit": 4, "offset": 4})).json()
        cancelled = (await reader.get("/v1/alerts", params={"state": "cancelled"})).json()
        one = (await reader.get("/v1/alerts/alert-d")).json()
        missing = await reader.get("/v1/alerts/alert-z")

    listed = first["items"] + rest["items"]
    assert [a["id"] for a in listed] == list(versions_of)
    assert first["next_offset"] == 4 and rest["next_offset"] is None
    for alert in listed:
        count = versions_of[alert["id"]]
        assert [v["sequence"] for v in alert["history"]] == list(range(1, count + 1))
        assert [v["identifier"] for v in alert["history"]] == [
            f"{alert['id']}-v{n}" for n in range(1, count + 1)
        ]
        assert alert["current"]["alert_id"] == alert["id"]
        assert alert["current"]["sequence"] == alert["sequence"] == count
    # Four alerts, one query for all their versions.
    assert len(queries) == 1
    assert [a["id"] for a in cancelled["items"]] == ["alert-a", "alert-c", "alert-e"]
    assert one == next(a for a in listed if a["id"] == "alert-d")
    assert missing.status_code == 404 and missing.json()["detail"].startswith("No alert alert-z. ")
    # An id an approval just answered may be read before the engine composed its alert.
    assert "a moment after the approval" in missing.json()["detail"]


async def test_an_empty_page(stack: Stack) -> None:
    async with stack.client("reader") as reader:
        page = (await reader.get("/v1/alerts", params={"offset": 10})).json()
    assert page == {"items": [], "next_offset": None, "next_cursor": None}
