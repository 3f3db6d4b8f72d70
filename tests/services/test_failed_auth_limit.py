"""A flood of failed authentications from one client address is cut off with 429."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.testbed.sample_report import report_body
from services.testbed.stack import embedded_settings, start_stack
from shared.rate_limit import RateLimiter


def test_blocked_for_does_not_take_a_token() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    assert limiter.blocked_for("a", 0.0) is None  # never seen: not blocked
    assert limiter.retry_after("a", 0.0) is None
    assert limiter.blocked_for("a", 0.0) is None
    assert limiter.retry_after("a", 0.0) is None
    assert limiter.blocked_for("a", 0.0) == pytest.approx(1.0)
    assert limiter.blocked_for("a", 0.0) == pytest.approx(1.0)  # asking again takes nothing
    assert limiter.blocked_for("a", 1.0) is None


def test_a_flood_from_many_addresses_does_not_grow_the_table_without_end() -> None:
    limiter = RateLimiter(per_minute=60, burst=1)
    for n in range(30_000):
        limiter.retry_after(f"10.0.{n // 256}.{n % 256}", float(n))
    assert len(limiter._buckets) <= 10_001


async def test_failed_authentication_is_limited_per_address(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, auth_failures_per_minute=5)
    stack, server = await start_stack(settings)
    try:
        async with stack.client() as anonymous:
            forged = {"Authorization": "Bearer tfk_000000000000_forged"}
            answers = [
                (await anonymous.get("/v1/reports", headers=forged)).status_code for _ in range(5)
            ]
            assert answers == [401] * 5
            limited = await anonymous.post("/v1/reports", json=report_body(), headers=forged)
            assert limited.status_code == 429
            assert limited.headers["content-type"] == "application/problem+json"
            assert int(limited.headers["retry-after"]) >= 1
            # While it lasts, a key not seen authenticating lately waits too (telling it
            # valid would cost the lookup the limit saves), but what needs no key answers.
            valid = {"Authorization": f"Bearer {stack.keys['reader']}"}
            assert (await anonymous.get("/v1/reports", headers=valid)).status_code == 429
            assert (await anonymous.get("/healthz")).status_code == 200
            assert (await anonymous.get("/openapi.json")).status_code == 200
            assert (await anonymous.get("/v1/cap/certificate")).status_code == 200
    finally:
        await server.__aexit__(None, None, None)


async def test_a_stale_client_does_not_hold_up_the_valid_keys_sharing_its_address(
    tmp_path: Path,
) -> None:
    """One gateway address: a key in use keeps working while a stale client's revoked key
    fails (the resolve that takes an alert down must not wait); the stale key stays out."""
    settings = embedded_settings(tmp_path, auth_failures_per_minute=3, rate_limit_per_minute=0)
    stack, server = await start_stack(settings)
    try:
        async with stack.client("submitter") as police, stack.client() as anonymous:
            assert (await police.get("/v1/reports")).status_code == 200  # in use
            stale = {"Authorization": "Bearer tfk_000000000000_revoked-long-ago"}
            answers = [
                (await anonymous.get("/v1/reports", headers=stale)).status_code for _ in range(6)
            ]
            assert answers == [401] * 3 + [429] * 3
            created = await police.post("/v1/reports", json=report_body())
            assert created.status_code == 201, created.text
            withdrawn = await police.post(
                f"/v1/reports/{created.json()['id']}/cancel", json={"reason": "Found at home."}
            )
            assert withdrawn.status_code == 200, withdrawn.text
            assert (await anonymous.get("/v1/reports", headers=stale)).status_code == 429
    finally:
        await server.__aexit__(None, None, None)


async def test_successful_requests_are_not_counted(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, auth_failures_per_minute=2, rate_limit_per_minute=0)
    stack, server = await start_stack(settings)
    try:
        async with stack.client("reader") as reader:
            for _ in range(20):
                assert (await reader.get("/v1/reports")).status_code == 200
            assert (await reader.get("/v1/reports/no-such-report")).status_code == 404
            assert (await reader.get("/v1/reports")).status_code == 200
    finally:
        await server.__aexit__(None, None, None)
