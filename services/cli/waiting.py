"""A process started while the database or the broker is down waits for it, as a running
process waits an outage out: started by a supervisor in the middle of one, it must not die
and stay dead. Standard library only (``tifli --help`` stays quick)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_FIRST_DELAY_S = 0.5
_LONGEST_DELAY_S = 10.0


def until_answering(
    attempt: Callable[[], T],
    what: str,
    *,
    transient: Callable[[BaseException], bool],
    reason: Callable[[BaseException], str] = lambda exc: type(exc).__name__,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``attempt()``'s result, trying again (backing off to every 10 s) while it fails in a
    way that passes with time; other failures are raised. Says once that it waits, and why
    (``reason``: the failure's type unless told, as a driver's text may hold an address),
    and when ``what`` answers. Nothing is held meanwhile, so a signal may end the wait as
    it is."""
    delay = _FIRST_DELAY_S
    waiting_since: float | None = None
    while True:
        try:
            result = attempt()
        except Exception as exc:
            if not transient(exc):
                raise
            if waiting_since is None:
                waiting_since = time.monotonic()
                print(
                    f"tifli: waiting for {what} ({reason(exc)}); trying again until it answers",
                    file=sys.stderr,
                    flush=True,
                )
            sleep(delay)
            delay = min(delay * 2, _LONGEST_DELAY_S)
            continue
        if waiting_since is not None:
            waited = time.monotonic() - waiting_since
            print(f"tifli: {what} answers (waited {waited:.0f} s)", file=sys.stderr, flush=True)
        return result
