"""One error format for every endpoint: RFC 9457 problem details (application/problem+json).

Validation errors name each offending field with a dotted path (``child.age``), so a police
system can show its operator exactly what to fix.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.key_shape import holds_key, masked_path
from shared.transient_errors import describe, is_transient

PROBLEM_JSON = "application/problem+json"
# How long a client should wait after a 503: a database restart or fail-over takes seconds.
RETRY_AFTER_S = 5
log = logging.getLogger(__name__)


class Problem(Exception):
    """Raise anywhere in a request; becomes a problem+json response."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.errors = errors
        self.headers = headers
        self.extensions = extensions


def field_problem(field: str, message: str, *, status: int = 422) -> Problem:
    """A problem naming the field at fault (422 unless told), as every bad input is answered."""
    return Problem(
        status,
        "Invalid request",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
    )


# What a name of ours looks like (UUIDs, hex key ids, partner ids, parameter names).
_ECHOABLE = re.compile(r"[A-Za-z0-9_.:\[\]-]{1,64}")


def echoable(text: str) -> bool:
    """Whether a client's ``text`` may be repeated in a reply, which a console or a log shows:
    an id or a name of the kind the API uses, not a bidi override or 5,000 characters, nor an
    API key pasted where its id belongs, alone or after another character (its secret would
    be repeated)."""
    return _ECHOABLE.fullmatch(text) is not None and not holds_key(text)


def not_found(noun: str, key: object) -> Problem:
    """A 404 naming the missing ``noun``, and its key if it is ``echoable`` (the problem's
    ``instance`` keeps the path anyway, percent-encoded)."""
    shown = str(key)
    detail = f"No {noun} {shown}." if echoable(shown) else f"No such {noun}."
    return Problem(404, "Not found", detail)


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    """The problem as an RFC 9457 ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": problem.type, "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    if instance:
        # The path as sent, percent-encoded: a path typed with a bidi override or a control
        # character is not shown as one where the problem is displayed. A whole key pasted
        # in it is masked, as the access log masks it: clients and gateways log error bodies.
        body["instance"] = quote(masked_path(instance), safe="/")
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extensions)
    return JSONResponse(
        body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    # FastAPI prefixes the source ("body", "query", "header", "path"); a body field is named
    # by its path alone, the others keep their source so "query.limit" is unambiguous.
    parts = [str(p) for p in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def _error_field(error: dict[str, Any]) -> str:
    # A JSON syntax error is located by a character offset; the field at fault is the body.
    if error.get("type") == "json_invalid":
        return "body"
    location = tuple(error.get("loc", ()))
    if error.get("type") == "inner_field":  # shared.input_types.inner_field_error
        location += (error["ctx"]["field"],)
    return _field_path(location)


def _validation_message(error: dict[str, Any]) -> str:
    if error.get("type") == "inner_field":
        return str(error["ctx"]["message"])
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    if error.get("type") == "json_invalid":
        return f"not valid JSON: {error.get('ctx', {}).get('error', 'syntax error')}"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def validation_problem(errors: Sequence[Any]) -> Problem:
    """The 422 for pydantic's errors (FastAPI's, or a model validated by a use case), each
    field named by its path. The input values are deliberately not echoed back or logged:
    they may be personal data."""
    named = [{"field": _error_field(e), "message": _validation_message(e)} for e in errors]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in named[:5])
    return Problem(422, "Invalid request", detail, errors=named)


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return problem_response(validation_problem(exc.errors()), request.url.path)


async def _on_problem(request: Request, exc: Problem) -> JSONResponse:
    return problem_response(exc, request.url.path)


def invalid_body(message: str) -> Problem:
    """The 422 for a body that does not parse: the field at fault is the body."""
    return Problem(
        422, "Invalid request", f"body: {message}", errors=[{"field": "body", "message": message}]
    )


# A body that could not be parsed at all: not UTF-8 (UnicodeDecodeError is a ValueError), or
# nested deeper than the parser's recursion limit. Answered like a JSON syntax error.
UNREADABLE_BODY = invalid_body("not valid JSON (it must be UTF-8, and not nested too deeply)")


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        return problem_response(UNREADABLE_BODY, request.url.path)
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return problem_response(
        Problem(exc.status_code, title, str(exc.detail), headers=headers), request.url.path
    )


def _allowed_methods(request: Request) -> str:
    """Every method the path answers (RFC 9110's ``Allow`` of a 405). The router names only
    the first route whose path matched, and a path's methods are often several routes (GET
    and POST of /v1/reports); HEAD is answered wherever GET is."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.router.routes):  # included routers' too
        match, _ = context.route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(context.route, "methods", None) or set()
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The path masked as the access log masks it: a whole key pasted into a URL is a secret.
    log.error("unhandled error", extra={"path": masked_path(request.url.path), **describe(exc)})
    return problem_response(Problem(500, "Internal error"), request.url.path)


async def _on_infrastructure_error(request: Request, exc: Exception) -> JSONResponse:
    """The database (or a connection to it) failed. If that passes with time — a restart,
    a fail-over, a crash recovery — say so with 503 and Retry-After, so a police client
    retries (with its Idempotency-Key) instead of reporting a bug. Handled here rather than
    by the catch-all, so that it is logged once and not again by the server."""
    if not is_transient(exc):
        return await _on_unexpected(request, exc)
    log.warning(
        "dependency unavailable",
        extra={"path": masked_path(request.url.path), "collapse": True, **describe(exc)},
    )
    problem = Problem(
        503,
        "Service unavailable",
        "The database (or another service Tifli needs) is unavailable for a moment; "
        "retry shortly with the same Idempotency-Key.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
    return problem_response(problem, request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Makes every error a problem+json answer: bad input 4xx, infrastructure 503, the unexpected
    500 without details."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Problem, _on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    for infrastructure in (DBAPIError, OSError, TimeoutError):
        app.add_exception_handler(infrastructure, _on_infrastructure_error)
    app.add_exception_handler(Exception, _on_unexpected)
