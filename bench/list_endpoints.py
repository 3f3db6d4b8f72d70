"""The three big list endpoints over 1,000 rows each on PostgreSQL: ``GET /v1/alerts`` (two
versions per alert), ``GET /v1/reports`` and ``GET /v1/deliveries`` (three attempts each),
every page of 200 walked to the end. The baseline, in the same run and alternating with
them, is as many requests to ``GET /v1/cap/certificate`` (no key, no database): the HTTP
floor, so that each endpoint's ratio to it can be compared across runs on a busy machine.
``/v1/alerts`` is also measured with its versions loaded one alert at a time (the earlier
way, put back for the comparison).

    .venv/bin/python -m bench.list_endpoints --rows 1000 --rounds 9
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from alert_engine.models import Alert, AlertVersion
from alert_engine.reads import AlertReads, alert_out
from alert_engine.schemas import AlertOut, VersionSummary
from bench.list_deliveries import seed as seed_deliveries
from intake_api.models import Report
from services.testbed.ended_alerts import ended_alert_rows
from services.testbed.production import embedded_stack_on_postgres
from services.testbed.sample_report import report_body
from services.testbed.stack import Stack
from shared.alert_contract import AlertMessage

PAGE = 200  # the largest page the endpoints serve
VERSIONS_EACH = 2
# The endpoint, the persona whose key reads it.
ENDPOINTS = {"/v1/alerts": "reader", "/v1/reports": "reader", "/v1/deliveries": "admin"}
BASELINE = "/v1/cap/certificate"
PER_ALERT = "/v1/alerts, versions per alert"


async def per_alert_versions(self: AlertReads, alerts: Sequence[Alert]) -> list[AlertOut]:
    """The earlier way: every version of each alert (payloads included) in a query of its own."""
    out = []
    for alert in alerts:
        versions = list(
            await self._session.scalars(
                select(AlertVersion)
                .where(AlertVersion.alert_id == alert.id)
                .order_by(AlertVersion.sequence)
            )
        )
        history = [
            VersionSummary(
                sequence=v.sequence, msg_type=v.msg_type, identifier=v.identifier, sent=v.sent
            )
            for v in versions
        ]
        out.append(
            alert_out(alert, AlertMessage.model_validate_json(versions[-1].payload), history)
        )
    return out


async def seed_alerts(stack: Stack, count: int) -> None:
    """Ended alerts (nothing for the engine's timers) with an Alert and an Update each."""
    now = datetime.now(UTC)
    async with stack.embedded.sessions() as session, session.begin():
        for i in range(count):
            session.add_all(
                ended_alert_rows(
                    f"alert-{i:05}",
                    VERSIONS_EACH,
                    effective=now - timedelta(seconds=i),
                    expires=now - timedelta(seconds=i - 1),
                )
            )


async def seed_reports(stack: Stack, count: int) -> None:
    """One report submitted through the API, then copied row for row (sealed data included)."""
    async with stack.client("submitter") as submitter:
        response = await submitter.post("/v1/reports", json=report_body())
        response.raise_for_status()
        first_id = response.json()["id"]
    async with stack.embedded.sessions() as session, session.begin():
        first = (await session.scalars(select(Report).where(Report.id == first_id))).one()
        columns = [c.key for c in Report.__table__.columns if c.key != "id"]
        for i in range(count - 1):
            copy = Report(id=str(uuid.uuid4()), **{c: getattr(first, c) for c in columns})
            copy.created_at = first.created_at - timedelta(seconds=i + 1)
            session.add(copy)


async def walk(stack: Stack, path: str, persona: str, expected: int) -> float:
    """Seconds to read every page of ``path`` to the end."""
    async with stack.client(persona) as client:
        started = time.perf_counter()
        offset: int | None = 0
        seen = 0
        while offset is not None:
            response = await client.get(path, params={"limit": PAGE, "offset": offset})
            response.raise_for_status()
            page = response.json()
            seen += len(page["items"])
            offset = page["next_offset"]
        assert seen == expected, (path, seen)
        return time.perf_counter() - started


async def floor(stack: Stack, requests: int) -> float:
    """Seconds for as many requests as a walk makes, to an endpoint without key or query."""
    async with stack.client() as client:
        started = time.perf_counter()
        for _ in range(requests):
            (await client.get(BASELINE)).raise_for_status()
        return time.perf_counter() - started


async def main(rows: int, rounds: int) -> None:
    timings: dict[str, list[float]] = {path: [] for path in (BASELINE, PER_ALERT, *ENDPOINTS)}
    one_query = AlertReads._with_versions
    requests = rows // PAGE + 1  # the last page is short (or empty) and says so
    async with embedded_stack_on_postgres() as stack:
        try:
            await seed_alerts(stack, rows)
            await seed_reports(stack, rows)
            await seed_deliveries(stack, rows)
            for _ in range(2):  # warm-up: connections, statement caches
                for path, persona in ENDPOINTS.items():
                    await walk(stack, path, persona, rows)
            for _ in range(rounds):
                timings[BASELINE].append(await floor(stack, requests))
                AlertReads._with_versions = per_alert_versions  # type: ignore[method-assign]
                timings[PER_ALERT].append(await walk(stack, "/v1/alerts", "reader", rows))
                AlertReads._with_versions = one_query  # type: ignore[method-assign]
                for path, persona in ENDPOINTS.items():
                    timings[path].append(await walk(stack, path, persona, rows))
        finally:
            AlertReads._with_versions = one_query  # type: ignore[method-assign]
    print(
        f"{rows:,} rows per list, pages of {PAGE} ({requests} requests per walk), PostgreSQL; "
        f"median of {rounds} rounds, alternating"
    )
    base = statistics.median(timings[BASELINE])
    print(f"{'baseline: GET ' + BASELINE:>44}: {base * 1000:7.1f} ms")
    for path in (PER_ALERT, *ENDPOINTS):
        median = statistics.median(timings[path])
        print(f"{'GET ' + path:>44}: {median * 1000:7.1f} ms, {median / base:5.1f}x the baseline")
    alerts = statistics.median(timings["/v1/alerts"]) / statistics.median(timings[PER_ALERT])
    print(f"ratio: GET /v1/alerts in {alerts:.2f}x the time with versions loaded per alert")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.rounds))
