"""Prometheus metrics of the intake API."""

from __future__ import annotations

from prometheus_client import Counter

CASE_ACTIONS = Counter("tifli_case_actions_total", "Actions on cases, by kind.", ["action"])
