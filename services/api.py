"""The HTTP front: every service's router in one stateless FastAPI app (brief §9)."""

from __future__ import annotations

from fastapi import FastAPI

from alert_engine.routes import router as alerts_router
from dispatcher.routes import deliveries as deliveries_router
from dispatcher.routes import partners as partners_router
from intake_api.routes import router as reports_router
from services.access_log import AccessLog
from services.components import Components
from services.health import ops_router
from services.http_guards import JsonBodyGuard
from services.ops_app import running
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
    app = FastAPI(
        title="Tifli", version="0.1.0", description=DESCRIPTION, lifespan=running(components)
    )
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

    app.include_router(ops_router(components.readiness()))

    return app
