"""On PostgreSQL the API key is looked up outside any transaction: every request pays one
round trip for it, not also a BEGIN and a COMMIT. The endpoint's own work still runs in a
transaction of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from services.testbed.production import embedded_stack_on_postgres


@pytest.fixture
def isolation_of_statements() -> Iterator[list[tuple[str, str | None]]]:
    """(statement, the connection's isolation-level option) for each statement run."""
    seen: list[tuple[str, str | None]] = []

    def before(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append((statement, connection.get_execution_options().get("isolation_level")))

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", before)


@pytest.mark.postgres
async def test_a_request_looks_its_key_up_in_autocommit_and_works_in_a_transaction(
    isolation_of_statements: list[tuple[str, str | None]],
) -> None:
    async with embedded_stack_on_postgres() as stack:
        async with stack.client("submitter") as police:
            isolation_of_statements.clear()
            listed = await police.get("/v1/reports")
        assert listed.status_code == 200, listed.text
    lookups = [level for s, level in isolation_of_statements if "FROM api_keys" in s]
    reads = [level for s, level in isolation_of_statements if "FROM reports" in s]
    assert lookups == ["AUTOCOMMIT"]
    assert reads and "AUTOCOMMIT" not in reads  # the endpoint's statements: a transaction
