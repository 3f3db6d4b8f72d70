"""Liveness, readiness and metrics: what a load balancer, an orchestrator or a monitoring
system asks of every process.

Ready means "send me work": the database answers, every background loop has completed a pass
recently (a loop stuck or failing for longer than ``loop_stale_after_s`` shows here), and for
worker processes the broker answers. The intake API does not need the broker to take reports
— the outbox carries them through a broker outage — so there the broker's state is shown but
does not decide. Nor does the outbox's backlog (events not yet published: no relay running,
or the broker down), shown beside them: every process sees it, the relay's included, so it
shows even while no relay runs to say so itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.outbox import Backlog, unpublished
from shared.supervision import Supervisor

DEPENDENCY_UP = Gauge(
    "tifli_dependency_up",
    "1 if the dependency answered this process's last readiness check, else 0.",
    ["dependency"],
)


OUTBOX_OLDEST_AGE = Gauge(
    "tifli_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest event not yet published, as this process's last readiness check found "
    "it (0: none waits). It grows while no relay runs: alert on it.",
)

# The broker's state: "ok", or what is wrong ("unreachable", a bootstrap host that does not
# resolve: shared/bus/bootstrap_hosts.py).
BrokerCheck = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class Readiness:
    engine: AsyncEngine
    supervisor: Supervisor
    broker: BrokerCheck | None  # None: no broker in this run mode
    broker_required: bool
    timeout_s: float = 3.0

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """Whether the process is ready, and the state of each thing that decides it."""
        # Both at once: a probe must answer within its own time-out even when both are slow.
        (database, backlog), broker = await asyncio.gather(self._database(), self._broker())
        body: dict[str, Any] = {"database": database}
        ready = database == "ok"
        if backlog is not None:
            body["outbox"] = _outbox(backlog, datetime.now(UTC))
        if broker is not None:
            body["broker"] = broker
            ready = ready and (broker == "ok" or not self.broker_required)
        pulses = self.supervisor.pulses.values()
        body["loops"] = {
            pulse.name: {"last_pass_age_s": round(pulse.age(), 1), "ok": not pulse.stale}
            for pulse in pulses
        }
        ready = ready and not any(pulse.stale for pulse in pulses)
        return ready, {"status": "ready" if ready else "unavailable", **body}

    async def _broker(self) -> str | None:
        if self.broker is None:
            return None
        state = await self.broker()
        DEPENDENCY_UP.labels("broker").set(int(state == "ok"))
        return state

    async def _database(self) -> tuple[str, Backlog | None]:
        try:
            async with asyncio.timeout(self.timeout_s), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                backlog = await unpublished(connection, datetime.now(UTC))
        except Exception as exc:  # any failure means "not ready"; its type says why
            DEPENDENCY_UP.labels("database").set(0)
            return type(exc).__name__, None
        DEPENDENCY_UP.labels("database").set(1)
        return "ok", backlog


def _outbox(backlog: Backlog, now: datetime) -> dict[str, Any]:
    """The backlog as the readiness body shows it, and its age as the metric."""
    age = (now - backlog.oldest).total_seconds() if backlog.oldest is not None else 0.0
    OUTBOX_OLDEST_AGE.set(max(age, 0.0))
    return {"unpublished": backlog.count, "oldest_age_s": round(max(age, 0.0), 1)}


def ops_router(readiness: Readiness) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up (liveness): it answers even while its dependencies do not."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready for work: the database answers and every background loop has completed a
        pass recently; worker processes also need the broker. The body names each check."""
        ready, body = await readiness.check()
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus metrics of this process (text exposition format)."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
