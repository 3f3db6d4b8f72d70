"""The alert the API documentation shows partners is the one the pipeline sends for the
documented report: its texts, its names in each language, its area, nothing made up."""

from __future__ import annotations

from pathlib import Path

from services.testbed.alert_example import documented_alert
from shared.alert_example import ALERT_MESSAGE_EXAMPLE


async def test_the_documented_alert_is_what_the_pipeline_sends(tmp_path: Path) -> None:
    # On a difference: rewrite the file with ``python -m services.testbed.alert_example``.
    assert await documented_alert(tmp_path) == ALERT_MESSAGE_EXAMPLE
