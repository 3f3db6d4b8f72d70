"""One sample out of a process's /metrics, read as Prometheus reads the exposition."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample_value(exposition: str, name: str) -> float:
    """The first sample called ``name`` (a counter's ``…_total``, a histogram's ``…_count``);
    0 when there is none yet."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    return 0.0
