"""The same case flow in production mode: Kafka + PostgreSQL, one OS process per service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows import full_case_flow
from tests.production import production_stack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_full_case_flow_with_separate_processes(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with production_stack(postgres_url, kafka_bootstrap, tmp_path) as (stack, processes):
        await full_case_flow(stack)
        # SIGTERM: each service finishes the work in hand and exits cleanly.
        for name in list(processes.running):
            assert processes.stop(name) == 0, processes.log_text()[-3000:]
        logs = processes.log_text()
    assert "Amina" not in logs and "Benali" not in logs
    assert "this relay is now the active one" in logs
