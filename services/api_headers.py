"""Headers every answer carries unless its route set its own. None is to be sniffed as
another type than it says (a health check's JSON, the metrics' text, the document and the
assets of ``/docs`` too, not only the API's answers). Answers under ``/v1/`` also hold
personal data (a guardian's phone number, a child's description), which no browser, proxy
or *Try it out* page may keep."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_EVERY_ANSWER = ((b"x-content-type-options", b"nosniff"),)
_API_ANSWER = ((b"cache-control", b"no-store"), *_EVERY_ANSWER)


class ApiResponseHeaders:
    def __init__(self, app: ASGIApp, *, prefix: str = "/v1/") -> None:
        self._app = app
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        defaults = _API_ANSWER if scope["path"].startswith(self._prefix) else _EVERY_ANSWER

        async def with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # A route that chose its own caching (the base map, a version's picture) keeps it.
                headers.extend((n, v) for n, v in defaults if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, with_defaults)
