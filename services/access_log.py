"""One line per request: method, route, status, duration, and the id of the key that
authenticated (who did it, refused acts included). Never bodies or query strings (they may
carry personal data); paths hold only ids, and of a key pasted into one, only its id."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.key_shape import masked_path

log = logging.getLogger("tifli.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, capture)
        finally:
            line = {
                "method": scope["method"],
                "path": masked_path(scope["path"]),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            state = scope.get("state")
            key_id = state.get("authenticated_key") if isinstance(state, dict) else None
            if key_id is not None:
                line["key_id"] = key_id  # an id, never the key's name (it may name a person)
            log.info("request", extra=line)
