"""The HTTP front: every service's router in one stateless FastAPI app, so the API scales by
running more copies behind any load balancer."""

from __future__ import annotations

from functools import partial

from fastapi import Depends, FastAPI

from alert_engine.certificate_routes import router as cap_certificate_router
from alert_engine.dependencies import CapSigning
from alert_engine.exact_zone_routes import router as exact_zone_router
from alert_engine.map_routes import MapSources
from alert_engine.map_routes import router as map_router
from alert_engine.routes import router as alerts_router
from alert_engine.version_routes import router as alert_versions_router
from dispatcher.dependencies import DispatcherLink
from dispatcher.routes import deliveries as deliveries_router
from dispatcher.routes import partners as partners_router
from dispatcher.routes import webhooks as partner_webhooks
from intake_api.dependencies import service_area_of
from intake_api.own_key_routes import router as own_key_router
from intake_api.place_routes import router as place_router
from intake_api.routes import router as reports_router
from intake_api.service_area_routes import router as service_area_router
from services.access_log import AccessLog
from services.api_headers import ApiResponseHeaders
from services.components import Components, map_territory, zone_policy
from services.console.pages import install_console
from services.docs_pages import install_docs_pages
from services.head_requests import HeadAsGet
from services.health import ops_router
from services.http_guards import ControlCharacterGuard, FailedAuthLimit, JsonBodyGuard
from services.known_query import known_query_only
from services.openapi_document import TAGS, install_openapi, operation_id
from services.ops_app import running
from shared.problems import install_problem_handlers
from shared.rate_limit import RateLimiter
from shared.web import AppContext, install_parts

DESCRIPTION = """
Tifli turns validated missing-child reports into geographic, time-bounded alerts for partner
platforms.

**Sign in:** press *Authorize* and paste an API key (create keys with `tifli keys create`);
every call then sends `Authorization: Bearer <key>`. Each operation names the scope it needs.
No key is a 401, a key without the scope a 403.

**Errors** are RFC 9457 `application/problem+json`; `errors[].field` names each offending
field.

**Examples** are valid as shown: *Try it out* on `POST /v1/reports` with its example returns
201 (its last-seen time is set to 30 minutes before this document was fetched; reload the page
for a fresh one). It is marked `Exercise`, so the alert it leads to is a drill end to end.

**Webhooks** (below the operations) describe what partner platforms receive.
"""


def create_app(components: Components) -> FastAPI:
    app = FastAPI(
        title="Tifli",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=running(components),
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        # Served from assets shipped with the project instead (services/docs_pages.py).
        docs_url=None,
        redoc_url=None,
    )
    settings = components.settings
    # Read now: a service area file that cannot be read stops the start, not a report.
    service_area_of(settings)
    install_parts(
        app,
        AppContext(
            settings,
            components.sessions,
            components.clock,
            components.sealer,
            rate_limiter=(
                RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
                if settings.rate_limit_per_minute > 0
                else None
            ),
        ),
        CapSigning(components.cap_signer),
        DispatcherLink(components.webhook_client, components.wake_dispatcher),
        MapSources(
            partial(map_territory, components.settings), partial(zone_policy, components.settings)
        ),
    )
    install_problem_handlers(app)
    app.add_middleware(HeadAsGet)  # innermost: the others, and the access log, see the HEAD
    app.add_middleware(JsonBodyGuard, max_body_bytes=components.settings.max_body_bytes)
    app.add_middleware(ControlCharacterGuard)
    if settings.auth_failures_per_minute > 0:
        failures = settings.auth_failures_per_minute
        app.add_middleware(FailedAuthLimit, limiter=RateLimiter(failures, burst=failures))
    app.add_middleware(ApiResponseHeaders)
    app.add_middleware(AccessLog)
    for router in (
        own_key_router,
        reports_router,
        alerts_router,
        alert_versions_router,
        exact_zone_router,
        map_router,
        service_area_router,
        place_router,
        cap_certificate_router,
        partners_router,
        deliveries_router,
    ):
        app.include_router(router, dependencies=[Depends(known_query_only)])
    app.webhooks.include_router(partner_webhooks)
    install_docs_pages(app)
    install_console(app, settings.alert_timezone)
    app.include_router(ops_router(components.readiness()))
    install_openapi(app, components.clock)

    return app
