"""Prometheus metrics of the dispatcher (exposed by whichever process runs it)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ATTEMPTS = Counter(
    "tifli_delivery_attempts_total", "Webhook delivery attempts, by outcome.", ["outcome"]
)
ATTEMPT_SECONDS = Histogram(
    "tifli_delivery_attempt_seconds",
    "Time for one webhook POST, answer included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LAG_SECONDS = Histogram(
    "tifli_delivery_lag_seconds",
    "From an alert version's 'sent' to its delivery to a partner.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120, 600, 3600),
)
