"""Background loops that cannot die quietly.

A worker process is a handful of long-running loops (deliveries, timers, the relay, the
consumers). If one of them ends on an unexpected error the process keeps running — and
heartbeating to Kafka — while alerts stop expiring and retries stop going out. So every loop
runs its passes under :func:`supervise`: an error is logged once with its cause, the loop backs
off and goes on, and each loop's :class:`Pulse` records its last good pass, which readiness
and the ``tifli_loop_last_pass_age_seconds`` metric read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from shared.transient_errors import describe, is_transient

log = logging.getLogger(__name__)

LOOP_LAST_PASS_AGE = Gauge(
    "tifli_loop_last_pass_age_seconds",
    "Seconds since the loop last completed a pass (a stuck or failing loop grows).",
    ["loop"],
)
LOOP_FAILURES = Counter(
    "tifli_loop_failures_total",
    "Loop passes that failed, by whether the cause passes with time.",
    ["loop", "kind"],
)


@dataclass
class Pulse:
    """One loop's heartbeat: when it last completed a pass, and whether it is failing."""

    name: str
    stale_after_s: float
    last_good: float = field(default_factory=time.monotonic)
    failing_since: float | None = None
    failures: int = 0

    def __post_init__(self) -> None:
        LOOP_LAST_PASS_AGE.labels(self.name).set_function(self.age)

    def beat(self) -> None:
        """Records a completed pass."""
        self.last_good = time.monotonic()

    def age(self) -> float:
        """Seconds since the last completed pass (exported as a gauge)."""
        return time.monotonic() - self.last_good

    @property
    def stale(self) -> bool:
        """Whether the loop has gone longer than it should without completing a pass."""
        return self.age() > self.stale_after_s


@dataclass(frozen=True)
class Backoff:
    """Waits after failed passes: short at first (most outages are a blip), then capped."""

    first_s: float = 0.1
    cap_s: float = 5.0

    def delay_s(self, failures: int) -> float:
        """The wait before the next pass after ``failures`` in a row: doubling from the first, up to
        the cap."""
        return float(min(self.first_s * 2 ** max(failures - 1, 0), self.cap_s))


class Supervisor:
    """Runs loops' passes, logs their failures sparingly and keeps their pulses."""

    def __init__(
        self, *, stale_after_s: float, backoff: Backoff | None = None, log_every_s: float = 30.0
    ) -> None:
        self._stale_after_s = stale_after_s
        self._backoff = backoff or Backoff()
        self._log_every_s = log_every_s
        self.pulses: dict[str, Pulse] = {}

    def pulse(self, name: str, interval_s: float = 0.0) -> Pulse:
        """``interval_s``: how long the loop waits between passes by design (an hourly job
        is not stale after a minute); staleness is counted beyond it."""
        if name not in self.pulses:
            self.pulses[name] = Pulse(name, self._stale_after_s + interval_s)
        return self.pulses[name]

    def stale(self) -> list[str]:
        """Names of the loops whose last good pass is too old."""
        return sorted(name for name, pulse in self.pulses.items() if pulse.stale)

    async def supervise(
        self,
        name: str,
        one_pass: Callable[[], Awaitable[object]],
        stopping: asyncio.Event,
        *,
        interval_s: float = 0.0,
    ) -> None:
        """Run ``one_pass`` until ``stopping`` is set; it includes its own wait between passes
        (at most ``interval_s`` beyond the usual: see :meth:`pulse`).

        Never returns early on an error: only cancellation or ``stopping`` end it.
        """
        pulse = self.pulse(name, interval_s)
        last_logged = 0.0
        while not stopping.is_set():
            try:
                await one_pass()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                transient = is_transient(exc)
                LOOP_FAILURES.labels(name, "transient" if transient else "unexpected").inc()
                now = time.monotonic()
                pulse.failures += 1
                if pulse.failing_since is None:
                    pulse.failing_since = now
                # Once at the start of an outage, then one line per interval with a count.
                if pulse.failures == 1 or now - last_logged >= self._log_every_s:
                    last_logged = now
                    log.log(
                        logging.WARNING if transient else logging.ERROR,
                        "loop pass failed; retrying",
                        extra={
                            "loop": name,
                            "transient": transient,
                            "failures": pulse.failures,
                            **describe(exc),
                        },
                    )
                await _wait(stopping, self._backoff.delay_s(pulse.failures))
                continue
            if pulse.failing_since is not None:
                log.info(
                    "loop recovered",
                    extra={
                        "loop": name,
                        "failures": pulse.failures,
                        "outage_s": round(time.monotonic() - pulse.failing_since, 1),
                    },
                )
                pulse.failing_since, pulse.failures = None, 0
            pulse.beat()


async def _wait(stopping: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
