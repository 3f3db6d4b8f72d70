"""Loops that cannot die quietly: a failing pass is logged once with its cause, the loop
backs off and goes on, recovers by itself, and a loop without a good pass shows as stale."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from shared.supervision import Backoff, Supervisor
from tests.waiting import eventually


class FlakyPass:
    """Fails with the given errors, one per pass, then succeeds; counts its passes."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = errors
        self.passes = 0
        self.succeeded = asyncio.Event()

    async def __call__(self) -> None:
        self.passes += 1
        if self.errors:
            raise self.errors.pop(0)
        self.succeeded.set()
        await asyncio.sleep(0)  # a real pass waits for work here


async def test_a_failing_pass_never_ends_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor(stale_after_s=60, backoff=Backoff(first_s=0.001, cap_s=0.005))
    errors: list[Exception] = [RuntimeError("a bug"), ConnectionRefusedError(), OSError()]
    flaky = FlakyPass(errors)
    stopping = asyncio.Event()
    caplog.set_level(logging.INFO, logger="shared.supervision")
    loop = asyncio.create_task(supervisor.supervise("deliveries", flaky, stopping))
    await asyncio.wait_for(flaky.succeeded.wait(), 5)
    stopping.set()
    await asyncio.wait_for(loop, 5)

    assert flaky.passes >= 4  # three failures, then passes again
    failures = [r for r in caplog.records if r.getMessage() == "loop pass failed; retrying"]
    # Logged once for the whole outage (not once per failure), with what failed.
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR  # the first one was not transient
    assert failures[0].error == "RuntimeError"  # type: ignore[attr-defined]
    [recovered] = [r for r in caplog.records if r.getMessage() == "loop recovered"]
    assert recovered.failures == 3  # type: ignore[attr-defined]
    pulse = supervisor.pulses["deliveries"]
    assert pulse.failures == 0 and pulse.failing_since is None and not pulse.stale


async def test_a_loop_without_a_good_pass_is_stale_and_shows_in_the_metric() -> None:
    supervisor = Supervisor(stale_after_s=0.05, backoff=Backoff(first_s=0.001, cap_s=0.001))
    stopping = asyncio.Event()

    async def always_failing() -> None:
        raise ConnectionRefusedError

    loop = asyncio.create_task(supervisor.supervise("alert-timers", always_failing, stopping))
    try:
        assert await eventually(
            lambda: asyncio.sleep(0, supervisor.stale()), lambda stale: stale == ["alert-timers"]
        )
        age = REGISTRY.get_sample_value(
            "tifli_loop_last_pass_age_seconds", {"loop": "alert-timers"}
        )
        assert age is not None and age > 0.05
        assert supervisor.pulses["alert-timers"].failures > 1
    finally:
        stopping.set()
        await asyncio.wait_for(loop, 5)


async def test_cancellation_still_ends_the_loop() -> None:
    supervisor = Supervisor(stale_after_s=60)
    started = asyncio.Event()

    async def waits_forever() -> None:
        started.set()
        await asyncio.Event().wait()

    loop = asyncio.create_task(supervisor.supervise("relay", waits_forever, asyncio.Event()))
    await started.wait()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


def test_backoff_grows_then_caps() -> None:
    backoff = Backoff(first_s=0.1, cap_s=5)
    assert [backoff.delay_s(n) for n in (1, 2, 3, 7, 50)] == [0.1, 0.2, 0.4, 5, 5]


def test_a_loop_that_waits_long_by_design_is_stale_only_beyond_its_interval() -> None:
    supervisor = Supervisor(stale_after_s=60)
    hourly = supervisor.pulse("housekeeping", interval_s=3600)
    hourly.last_good -= 3000  # fifty minutes since its last pass: on schedule
    busy = supervisor.pulse("deliveries")
    busy.last_good -= 120  # two minutes without a pass: stuck
    assert supervisor.stale() == ["deliveries"]
    hourly.last_good -= 700
    assert supervisor.stale() == ["deliveries", "housekeeping"]
