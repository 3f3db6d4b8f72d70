"""One request, one session: the key is checked on the session the endpoint then uses (in a
transaction of its own, committed first), not on a second session opened for it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import ClauseElement

from services.testbed.sample_report import report_body
from services.testbed.stack import Stack


async def test_authentication_and_the_endpoint_share_the_request_session(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=report_body())
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]

        sessions_by_table: dict[str, set[int]] = {"api_keys": set(), "reports": set()}

        def record(state: ORMExecuteState) -> Any:
            statement = str(state.statement)
            assert isinstance(state.statement, ClauseElement)
            bound = str(state.statement.compile().params)
            if "FROM api_keys" in statement:
                sessions_by_table["api_keys"].add(id(state.session))
            # The endpoint's read of this report (not a background loop's query).
            if "FROM reports" in statement and report_id in bound:
                sessions_by_table["reports"].add(id(state.session))

        event.listen(Session, "do_orm_execute", record)
        try:
            read = await police.get(f"/v1/reports/{report_id}")
        finally:
            event.remove(Session, "do_orm_execute", record)

    assert read.status_code == 200, read.text
    assert len(sessions_by_table["api_keys"]) == 1
    assert sessions_by_table["api_keys"] == sessions_by_table["reports"]
