"""Request guards applied before routing: JSON bodies only, and a size limit."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.problems import Problem, problem_response

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class JsonBodyGuard:
    """415 for a body that is not JSON, 413 for one over the limit, as problem+json."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self._app = app
        self._max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        problem = None
        if length is not None and length.isdigit() and int(length) > self._max:
            problem = Problem(
                413,
                "Body too large",
                f"The limit is {self._max} bytes.",
                errors=[{"field": "body", "message": "too large"}],
            )
        elif length not in (None, "0"):
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/json" and not media_type.endswith("+json"):
                problem = Problem(
                    415,
                    "Unsupported media type",
                    "Send the body as application/json.",
                    errors=[
                        {"field": "header.Content-Type", "message": "must be application/json"}
                    ],
                )
        if problem is None:
            await self._app(scope, receive, send)
            return
        await problem_response(problem, scope.get("path"))(scope, receive, send)
