"""Where the time of approval → partner goes, from the timestamps the pipeline stores.

Each hop already writes a time: the approval's outbox row (``created_at``, then
``published_at`` by the relay), the engine's and the dispatcher's inbox rows
(``processed_events.processed_at``: when the event reached the handler), the alert's outbox
row, and each delivery attempt (``at`` when its answer was recorded, ``latency_ms`` of the
POST). The partner's arrival comes from the receiver. Every process reads the same wall
clock (one machine), so differences between them are durations.

The engine's stage (received → alert published) holds the zone, the commit and the relay's
pick-up; the zone's share is the engine's own ``tifli_zone_seconds`` (its mean over the run).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from shared.clock import as_utc
from shared.db import create_engine

STAGES = (
    "approval request → approval handled (its event's time)",
    "approval event time → published (commit, relay)",
    "published → alert engine received",
    "engine received → alert published (zone, commit, relay)",
    "alert published → dispatcher received",
    "dispatcher received → POST sent",
    "POST sent → partner received",
)

_QUERY = text(
    """
    SELECT approved.key AS report_id, alert.key AS alert_id,
           approved.created_at AS committed, approved.published_at AS approval_published,
           engine.processed_at AS engine_received, alert.published_at AS alert_published,
           dispatcher.processed_at AS dispatcher_received, d.partner_id,
           attempt.at AS answered, attempt.latency_ms
    FROM outbox approved
    JOIN processed_events engine
      ON engine.event_id = approved.event_id AND engine.consumer_group = 'alert-engine'
    JOIN alerts a ON a.report_id = approved.key
    JOIN outbox alert ON alert.key = a.id AND alert.event_type = 'alert.issued'
    JOIN processed_events dispatcher
      ON dispatcher.event_id = alert.event_id AND dispatcher.consumer_group = 'dispatcher'
    JOIN deliveries d ON d.alert_id = a.id AND d.sequence = 1
    JOIN delivery_attempts attempt ON attempt.delivery_id = d.id
    WHERE approved.event_type = 'report.approved'
    ORDER BY attempt.at
    """
)


@dataclass(frozen=True)
class Hop:
    """One alert's first delivery to one partner, as wall-clock seconds."""

    report_id: str
    alert_id: str
    partner_id: str
    times: tuple[float, ...]  # request, committed, …, POST sent, partner received


async def hops(
    database_url: str,
    requested: Mapping[str, float],
    received: Mapping[tuple[str, str], float],
    partner_url_of: Mapping[str, str],
) -> list[Hop]:
    """``requested``: report id → when its approval request left (wall clock);
    ``received``: (alert id, partner url) → when the partner got the alert (wall clock);
    ``partner_url_of``: partner id → its url. The first attempt of each delivery counts."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(_QUERY)).mappings().all()
    finally:
        await engine.dispose()
    found: dict[tuple[str, str], Hop] = {}
    for row in rows:
        key = (row["alert_id"], row["partner_id"])
        arrival = received.get((row["alert_id"], partner_url_of.get(row["partner_id"], "")))
        if key in found or row["report_id"] not in requested or arrival is None:
            continue
        answered = _seconds(row["answered"])
        found[key] = Hop(
            row["report_id"],
            row["alert_id"],
            row["partner_id"],
            (
                requested[row["report_id"]],
                _seconds(row["committed"]),
                _seconds(row["approval_published"]),
                _seconds(row["engine_received"]),
                _seconds(row["alert_published"]),
                _seconds(row["dispatcher_received"]),
                answered - row["latency_ms"] / 1000,
                arrival,
            ),
        )
    return list(found.values())


def _seconds(moment: datetime) -> float:
    return as_utc(moment).timestamp()


def stage_table(found: Sequence[Hop], zone_mean_ms: float | None = None) -> str:
    """p50 and p95 of each stage, and of the whole hop, in milliseconds."""
    lines = [f"{'stage':<58} {'p50':>9} {'p95':>9}"]
    columns = list(zip(*(hop.times for hop in found), strict=True))
    for n, label in enumerate(STAGES):
        lines.append(_row(label, (b - a for a, b in zip(columns[n], columns[n + 1], strict=True))))
        if n == 3 and zone_mean_ms is not None:
            label = "  of which the zone (mean of tifli_zone_seconds)"
            lines.append(f"{label:<58} {zone_mean_ms:9.1f}")
    lines.append(
        _row(
            "whole: approval request → partner received",
            (hop.times[-1] - hop.times[0] for hop in found),
        )
    )
    return "\n".join(lines)


def _row(label: str, seconds: Iterable[float]) -> str:
    values = sorted(s * 1000 for s in seconds)
    p50 = statistics.median(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{label:<58} {p50:9.1f} {p95:9.1f}"


def zone_mean_ms(before: Mapping[str, float], after: Mapping[str, float]) -> float | None:
    """The mean zone time between two scrapes of the engine's metrics."""
    count = after.get("tifli_zone_seconds_count", 0) - before.get("tifli_zone_seconds_count", 0)
    total = after.get("tifli_zone_seconds_sum", 0) - before.get("tifli_zone_seconds_sum", 0)
    return total / count * 1000 if count else None


def metric_values(exposition: str) -> dict[str, float]:
    """Unlabelled samples of a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    values: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if not sample.labels:
                values[sample.name] = sample.value
    return values
