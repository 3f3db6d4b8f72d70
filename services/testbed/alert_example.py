"""The alert message the API documentation shows partners (``shared/alert_example.json``), as
the pipeline sends it: the documented report (``REPORT_EXAMPLE``, as a real case) submitted
and approved on an embedded stack whose clock stands at a fixed moment, its ids replaced by
fixed ones. A test holds the shipped file to it; after a change to what alerts say, rewrite
the file with

    .venv/bin/python -m services.testbed.alert_example
"""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from intake_api.schemas import REPORT_EXAMPLE
from services.testbed.sample_report import CRITERIA
from services.testbed.stack import FakeClock, embedded_settings, start_stack

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "shared" / "alert_example.json"
# Half an hour after the report's "last seen": the zone is the policy's floor.
APPROVED_AT = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
ALERT_ID = "0b7c2a9e-4f7d-4a3e-9a51-3f1d2c6b8e10"
REPORT_ID = "5e0c8f1a-2d4b-4c6e-8f7a-9b1c3d5e7f20"
_WAIT_S = 30.0


async def documented_alert(work: Path) -> dict[str, Any]:
    """The first version of the documented report's alert, as ``GET /v1/alerts/{id}`` shows
    it (``current``), with the fixed ids; ``work`` holds the stack's database."""
    stack, server = await start_stack(embedded_settings(work), FakeClock(APPROVED_AT))
    try:
        report = copy.deepcopy(REPORT_EXAMPLE)
        del report["message_status"]  # a real case, not an exercise
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            created = (await police.post("/v1/reports", json=report)).raise_for_status().json()
            approved = await reviewer.post(f"/v1/reports/{created['id']}/approve", json=CRITERIA)
            alert_id = approved.raise_for_status().json()["alert_id"]
        async with stack.client("reader") as reader:
            shown = await _issued(reader, alert_id)
    finally:
        await server.__aexit__(None, None, None)
    text = json.dumps(shown["current"], ensure_ascii=False)
    fixed: dict[str, Any] = json.loads(
        text.replace(alert_id, ALERT_ID).replace(created["id"], REPORT_ID)
    )
    return fixed


async def _issued(reader: httpx.AsyncClient, alert_id: str) -> dict[str, Any]:
    """The alert once the engine has issued it (it is read from the engine's own tables)."""
    async with asyncio.timeout(_WAIT_S):
        while True:
            response = await reader.get(f"/v1/alerts/{alert_id}")
            if response.status_code == 200:
                shown: dict[str, Any] = response.json()
                return shown
            await asyncio.sleep(0.05)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tifli-example-") as work:
        alert = asyncio.run(documented_alert(Path(work)))
    EXAMPLE_FILE.write_text(json.dumps(alert, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {EXAMPLE_FILE.name}")


if __name__ == "__main__":
    main()
