from __future__ import annotations

from pathlib import Path

import pytest

from services.testbed.stack import embedded_settings, start_stack
from shared.rate_limit import RateLimiter


def test_token_bucket_refills_at_the_rate() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)  # one a second, two at once
    assert limiter.retry_after("k", 0.0) is None
    assert limiter.retry_after("k", 0.0) is None
    assert limiter.retry_after("k", 0.0) == pytest.approx(1.0)
    assert limiter.retry_after("other", 0.0) is None  # per key
    assert limiter.retry_after("k", 0.5) == pytest.approx(0.5)
    assert limiter.retry_after("k", 1.0) is None


async def test_a_key_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, rate_limit_per_minute=1, rate_limit_burst=3)
    stack, server = await start_stack(settings)
    try:
        async with stack.client("submitter") as police, stack.client("reviewer") as other:
            statuses = [(await police.get("/v1/reports")).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            limited = await police.get("/v1/reports")
            assert limited.headers["content-type"] == "application/problem+json"
            assert int(limited.headers["retry-after"]) > 0
            assert (await other.get("/v1/reports")).status_code == 200  # other keys unaffected
    finally:
        await server.__aexit__(None, None, None)
