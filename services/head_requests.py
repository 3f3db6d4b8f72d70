"""HEAD answered as the GET of the same address, without its body.

Every general-purpose server supports HEAD wherever it supports GET (RFC 9110, section 9.1):
load balancers, uptime checkers and ``curl -I`` probe with it, and a 405 there reads as
"down". FastAPI routes a HEAD only to operations declared for it, so each GET would need a
twin; here a HEAD goes through as a GET instead (status, headers and ``Content-Length`` as the
GET's), and the body is dropped on its way out. Where no GET is allowed, the answer is the
GET's 405.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self._app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # A copy: the server reads its own scope's method, and so still sends no body.
        await self._app({**scope, "method": "GET"}, receive, without_body)
