"""The worker processes' small HTTP face: /healthz, /readyz and /metrics, no API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from services.components import Components
from services.head_requests import HeadAsGet
from services.health import ops_router


def running(components: Components) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that starts the components with the server and drains them at its stop."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await components.start()
        try:
            yield
        finally:
            await components.stop()

    return lifespan


def create_ops_app(components: Components) -> FastAPI:
    app = FastAPI(
        title=f"Tifli {', '.join(components.roles)}",
        lifespan=running(components),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(HeadAsGet)
    app.include_router(ops_router(components.readiness()))
    return app
