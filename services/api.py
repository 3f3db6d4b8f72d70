"""The HTTP front: every service's router in one stateless FastAPI app (brief §9)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app
from sqlalchemy import text

from alert_engine.routes import router as alerts_router
from dispatcher.routes import deliveries as deliveries_router
from dispatcher.routes import partners as partners_router
from intake_api.routes import router as reports_router
from services.access_log import AccessLog
from services.components import Components
from services.http_guards import JsonBodyGuard
from shared.problems import install_problem_handlers
from shared.rate_limit import RateLimiter
from shared.web import AppContext

DESCRIPTION = """
Tifli turns validated missing-child reports into geographic, time-bounded alerts for partner
platforms. Authenticate with `Authorization: Bearer <key>` (create keys with
`tifli keys create`). Errors are RFC 9457 `application/problem+json`; `errors[].field` names
each offending field.
"""


def create_app(components: Components) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await components.start()
        try:
            yield
        finally:
            await components.stop()

    app = FastAPI(title="Tifli", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.context = AppContext(components.settings, components.sessions, components.clock)
    app.state.sealer = components.sealer
    app.state.webhook_client = components.webhook_client
    app.state.wake_dispatcher = components.wake_dispatcher
    settings = components.settings
    if settings.rate_limit_per_minute > 0:
        app.state.rate_limiter = RateLimiter(
            settings.rate_limit_per_minute, settings.rate_limit_burst
        )
    install_problem_handlers(app)
    app.add_middleware(JsonBodyGuard, max_body_bytes=components.settings.max_body_bytes)
    app.add_middleware(AccessLog)
    for router in (reports_router, alerts_router, partners_router, deliveries_router):
        app.include_router(router)
    app.mount("/metrics", make_asgi_app())

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """Ready when the database answers, and in production the Kafka cluster too."""
        checks: dict[str, str] = {}
        try:
            async with components.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = type(exc).__name__
        bootstrap = components.settings.kafka_bootstrap_servers
        if bootstrap:
            from shared.bus.kafka import broker_reachable

            checks["broker"] = "ok" if await broker_reachable(bootstrap) else "unreachable"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", **checks},
            status_code=200 if ready else 503,
        )

    return app
