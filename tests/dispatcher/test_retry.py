from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.retry import RetryPolicy, classify, next_attempt_at, retry_after_s

POLICY = RetryPolicy((0, 5, 30, 120, 600, 1800, 3600), jitter=0.2)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (301, "retry"),
        (302, "retry"),
        (410, "disable"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (None, "retry"),
    ],
)
def test_classify(status: int | None, outcome: str) -> None:
    assert classify(status) == outcome


def test_schedule_with_bounded_jitter_then_hourly() -> None:
    rng = random.Random(7)
    for attempts, base in [(1, 5), (2, 30), (3, 120), (6, 3600), (40, 3600)]:
        delays = [POLICY.delay_after(attempts, rng) for _ in range(200)]
        assert min(delays) >= base * 0.8
        assert max(delays) <= base * 1.2
        assert max(delays) - min(delays) > base * 0.2  # jitter really spreads them


def test_a_take_down_is_tried_every_five_minutes_at_most_unless_the_partner_asks_later() -> None:
    """The child is found while the partner is down: its Cancel must not wait an hourly step
    after the partner is back. A partner's own Retry-After still holds."""
    rng = random.Random(3)
    for attempts in (4, 6, 40):
        delays = [POLICY.delay_after(attempts, rng, take_down=True) for _ in range(200)]
        assert min(delays) >= 300 * 0.8 and max(delays) <= 300 * 1.2
        assert min(POLICY.delay_after(attempts, rng) for _ in range(200)) >= 600 * 0.8
    assert POLICY.delay_after(2, rng, take_down=True) <= 30 * 1.2  # short steps stay short
    when = next_attempt_at(
        POLICY,
        attempts=6,
        now=NOW,
        deadline=LATER,
        status=503,
        retry_after="1800",
        rng=rng,
        take_down=True,
    )
    assert when == NOW + timedelta(seconds=1800)


def test_never_scheduled_past_the_deadline() -> None:
    rng = random.Random(1)
    deadline = NOW + timedelta(seconds=60)
    assert (
        next_attempt_at(
            POLICY, attempts=1, now=NOW, deadline=deadline, status=500, retry_after=None, rng=rng
        )
        is not None
    )
    assert (
        next_attempt_at(
            POLICY, attempts=3, now=NOW, deadline=deadline, status=500, retry_after=None, rng=rng
        )
        is None
    )


def test_retry_after_is_honoured_for_429_and_503_only() -> None:
    rng = random.Random(1)
    for status in (429, 503):
        when = next_attempt_at(
            POLICY, attempts=1, now=NOW, deadline=LATER, status=status, retry_after="900", rng=rng
        )
        assert when == NOW + timedelta(seconds=900)
    when = next_attempt_at(
        POLICY, attempts=1, now=NOW, deadline=LATER, status=500, retry_after="900", rng=rng
    )
    assert when is not None and when < NOW + timedelta(seconds=10)


@pytest.mark.parametrize("header", ["\u00b2", "\u00b9", "\u2460", "1\u00b2"])
def test_retry_after_with_digits_that_are_not_a_number_is_no_wait(header: str) -> None:
    # A partner's header can carry a superscript or circled digit (a Latin-1 byte, or UTF-8):
    # "digits" to isdigit, not a number. Not one to wait by, and never an exception while
    # the attempt is recorded.
    assert retry_after_s(header, NOW) is None
    when = next_attempt_at(
        POLICY,
        attempts=1,
        now=NOW,
        deadline=LATER,
        status=503,
        retry_after=header,
        rng=random.Random(1),
    )
    assert when is not None and when < NOW + timedelta(seconds=10)


def test_retry_after_in_arabic_indic_digits_is_no_wait() -> None:
    # HTTP's delta-seconds are ASCII digits (RFC 9110's DIGIT): "٣" is not three seconds.
    assert retry_after_s("\u0663", NOW) is None


def test_retry_after_http_date() -> None:
    assert retry_after_s("Sun, 29 Nov 2026 12:02:00 GMT", NOW) == 120
    assert retry_after_s("soon", NOW) is None
    # Dates without a zone, or "-0000" (UTC, in RFC 5322's words), are GMT as HTTP's are.
    assert retry_after_s("Sun, 29 Nov 2026 12:02:00 -0000", NOW) == 120
    assert retry_after_s("Sun, 29 Nov 2026 12:02:00", NOW) == 120
    assert retry_after_s("Sun, 29 Nov 2026 13:02:00 +0100", NOW) == 120
