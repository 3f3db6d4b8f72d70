"""Prometheus metrics of the dispatcher (exposed by whichever process runs it)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
DEAD = Counter(
    "tifli_deliveries_dead_total",
    "Deliveries given up on (retries spent, the deadline passed, 410 Gone), by event type: a "
    "partner that did not get that version. A take-down among them is an alert the partner "
    "may still show: alert on it.",
    ["event_type"],
)
TAKE_DOWN_WAITING = Gauge(
    "tifli_take_down_oldest_waiting_age_seconds",
    "Age of the oldest take-down (a Cancel, an expiry) still owed to a partner, as this "
    "dispatcher's last sweep found it (0: none). Its partner may still show the alert.",
)
PARTNER_WAITING = Gauge(
    "tifli_partner_deliveries_waiting",
    "Deliveries owed to each partner (waiting, or on their way), by partner id, as this "
    "dispatcher's last sweep found them: a count that keeps growing is a partner that does "
    "not keep up (slow, failing, throttling, disabled), and which one.",
    ["partner"],
)
PARTNER_PAUSED_UNTIL = Gauge(
    "tifli_partner_paused_until_seconds",
    "Until when (Unix time) each partner asked, with a Retry-After on a 429 or a 503, that "
    "nothing be sent to it, by partner id, as this dispatcher's last sweep found it (0: not "
    "paused). None of its deliveries goes before then, take-downs included.",
    ["partner"],
)
