"""Prometheus metrics of the alert engine."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

VERSIONS = Counter(
    "tifli_alert_versions_total", "Alert versions issued, by CAP msgType.", ["msg_type"]
)
ZONE_SECONDS = Histogram(
    "tifli_zone_seconds",
    "Time to compute a version's zone and the area sent (polygons, overshoot, geocodes).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)
ZONES_PREPARED = Counter(
    "tifli_zones_prepared_total",
    "Zones drawn while their report awaited review, for the approval to use.",
)
PREPARED_ZONES_USED = Counter(
    "tifli_prepared_zones_used_total",
    "Alert versions whose zone had been drawn while the report awaited review.",
)
