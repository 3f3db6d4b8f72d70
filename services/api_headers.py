"""Headers every API answer carries unless its route set its own: answers under ``/v1/``
hold personal data (a guardian's phone number, a child's description), which no browser,
proxy or *Try it out* page may keep, and none of them is to be sniffed as another type."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DEFAULTS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))


class ApiResponseHeaders:
    def __init__(self, app: ASGIApp, *, prefix: str = "/v1/") -> None:
        self._app = app
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self._prefix):
            await self._app(scope, receive, send)
            return

        async def with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # A route that chose its own caching (the base map, a version's picture) keeps it.
                headers.extend((n, v) for n, v in _DEFAULTS if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, with_defaults)
