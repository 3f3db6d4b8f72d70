"""The OpenAPI document as clients and the /docs page read it.

FastAPI generates the paths and schemas from the routers; this module adds what it cannot
know: which operations take the bearer key (and which scope), the problem+json schema, the
examples at the media-type level (where Swagger UI's *Try it out* and ReDoc pick them up),
and times in request examples that stay valid however long the process has been running.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from alert_engine.texts import cancel_info
from intake_api.schemas import SUBMITTED_EXAMPLE
from services.http_guards import BODY_METHODS
from shared.auth import SCOPES, current_principal
from shared.clock import Clock
from shared.problem_schema import PROBLEM_SCHEMA, WITH_BODY, ProblemDetails, problem_responses

BEARER = "bearerAuth"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key from `tifli keys create`, sent as `Authorization: Bearer <key>`. "
    "Each operation names the scope its key needs.",
}

# The case flow, in order: the tags' order is the order of the page.
TAGS: list[dict[str, str]] = [
    {
        "name": "reports",
        "description": "A police unit submits a report (`reports:submit`); a reviewing officer "
        "checks the criteria and approves it, with another key than the submitter's (four "
        "eyes), or rejects it (`reports:review`). Sightings, renewal, resolution (the child is "
        "found) and cancellation follow while the case is open. Every change is written with "
        "its event in one transaction.",
    },
    {
        "name": "alerts",
        "description": "What an approval produced (`alerts:read`): the alert's versions as "
        "partners received them, its zone as GeoJSON, each version as CAP 1.2 XML and as an "
        "SVG map; and the base map (regions, provinces, foreign land) to draw zones on.",
    },
    {
        "name": "partners",
        "description": "Partner platforms that receive the alerts as signed webhooks "
        "(`partners:admin`, national keys only): registration with Meta's verification "
        "handshake, secrets and their rotation.",
    },
    {
        "name": "deliveries",
        "description": "Every webhook sent to every partner, with each attempt "
        "(`deliveries:read`), and the replay of those that failed (`deliveries:ops`); "
        "national keys only.",
    },
    {
        "name": "keys",
        "description": "API keys (`keys:admin`, national keys only): each belongs to a unit, "
        "whose cases alone it reaches, or is national; created with an optional expiry, "
        "listed with their last use, revoked at once. Every creation and revocation is "
        "audited.",
    },
    {
        "name": "audit",
        "description": "The audit log (`audit:read`, national keys only): every act on a case "
        "or a key, chained by SHA-256 hashes so that a changed, deleted or moved entry shows "
        "(`tifli audit verify`).",
    },
    {
        "name": "operations",
        "description": "Health, readiness and Prometheus metrics, without a key.",
    },
    {
        "name": "webhooks",
        "description": "What partners receive (see *Webhooks*): four alert events, signed, and "
        "the verification handshake.",
    },
]

# Request-body times that the API checks against "now" (a last-seen time must not be in the
# future): the example's value is replaced by this offset from the time the document is served.
FRESH_TIMES: dict[str, tuple[tuple[str, ...], timedelta]] = {
    "ReportIn": (("last_seen", "at"), timedelta(minutes=-30)),
    "SightingIn": (("at",), timedelta(minutes=-10)),
}

# Summaries and response examples of the health checks (services/health.py), whose handlers
# are shared with the workers' small ops app and keep their docstrings as descriptions.
OPERATION_SUMMARIES: dict[str, str] = {
    "operations_healthz": "Liveness",
    "operations_readyz": "Readiness",
    "operations_metrics": "Prometheus metrics",
}
OPERATION_EXAMPLES: dict[str, Any] = {
    "operations_healthz": {"status": "ok"},
    "operations_readyz": {
        "status": "ready",
        "database": "ok",
        "outbox": {"unpublished": 0, "oldest_age_s": 0.0},
        "loops": {"relay": {"last_pass_age_s": 0.4, "ok": True}},
    },
    "operations_metrics": "# TYPE tifli_case_actions_total counter\n"
    'tifli_case_actions_total{action="submit"} 3.0\n',
}
# Responses whose model's own example shows another state: a submission answers a case
# before review, not the reviewed one the report model shows.
RESPONSE_EXAMPLES: dict[tuple[str, str], Any] = {("reports_submit", "201"): SUBMITTED_EXAMPLE}
_READYZ_503 = {
    "description": "Not ready: the body names the check that failed.",
    "content": {
        "application/json": {
            "schema": {"type": "object"},
            "example": {
                "status": "unavailable",
                "database": "OperationalError",
                "loops": {"relay": {"last_pass_age_s": 0.4, "ok": True}},
            },
        }
    },
}

_SCHEMA_PREFIX = "#/components/schemas/"
_PACKAGES = frozenset({"intake_api", "alert_engine", "dispatcher", "shared"})
_METHODS = ("get", "put", "post", "delete", "patch")


def operation_id(route: APIRoute) -> str:
    """Routes without an explicit id (health checks) get ``<first tag>_<function name>``."""
    tag = str(route.tags[0]) if route.tags else "api"
    return f"{tag}_{route.name}"


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def required_scopes(route: APIRoute) -> list[str] | None:
    """None for a public route; else the scopes its key needs (the ``scope`` that
    ``require_scope`` closed over, for the reader's benefit: OpenAPI 3.1 allows role names in
    a non-OAuth security requirement)."""
    authenticated = False
    scopes: list[str] = []
    for dependency in _dependencies(route.dependant):
        if dependency.call is current_principal:
            authenticated = True
        elif dependency.call is not None and any(
            d.call is current_principal for d in dependency.dependencies
        ):
            closure = inspect.getclosurevars(dependency.call).nonlocals
            scope = closure.get("scope")
            # A route any scope opens (the base map) needs a key, but names no scope.
            if isinstance(scope, str) and closure.get("accepted") != SCOPES:
                scopes.append(scope)
    return sorted(set(scopes)) if authenticated else None


def _problem_schema(components: dict[str, Any]) -> None:
    schema = ProblemDetails.model_json_schema(ref_template=_SCHEMA_PREFIX + "{model}")
    components.update(schema.pop("$defs", {}))
    components[PROBLEM_SCHEMA] = schema
    # FastAPI's default validation-error shapes are replaced by problem+json everywhere.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)


def _documented_models() -> Iterator[type[BaseModel]]:
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.split(".")[0] in _PACKAGES:
            yield model


def _restore_examples(components: dict[str, Any]) -> None:
    """FastAPI drops every ``None`` from the document, examples included (``"next_offset":
    null`` would vanish and the example would no longer match its schema): put each model's
    examples back as written."""
    for model in _documented_models():
        extra = model.model_config.get("json_schema_extra")
        schema = components.get(model.__name__)
        if isinstance(extra, dict) and "examples" in extra and schema is not None:
            schema["examples"] = copy.deepcopy(extra["examples"])


def _schema_example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    ref = schema.get("$ref", "")
    if ref.startswith(_SCHEMA_PREFIX):
        examples = components.get(ref.removeprefix(_SCHEMA_PREFIX), {}).get("examples")
        if examples:
            return examples[0]
    if schema.get("type") == "array" and "items" in schema:
        item = _schema_example(schema["items"], components)
        return None if item is None else [item]
    # An optional body (``Model | None``): the model's example.
    for option in schema.get("anyOf", []):
        example = _schema_example(option, components)
        if example is not None:
            return example
    return None


def _lift_examples(content: dict[str, Any], components: dict[str, Any]) -> None:
    """Each media type shows its schema's first example (Swagger UI fills *Try it out* with it)."""
    for media in content.values():
        if "example" in media or "examples" in media:
            continue
        example = _schema_example(media.get("schema", {}), components)
        if example is not None:
            media["example"] = example


def _is_default_validation_error(response: dict[str, Any]) -> bool:
    schemas = [m.get("schema", {}) for m in response.get("content", {}).values()]
    return any(s.get("$ref", "").endswith("/HTTPValidationError") for s in schemas)


def sent_or_left_out(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the ``null`` that FastAPI adds to an optional one.

    A query string or a header is sent or left out, never null: declared ``anyOf [type,
    null]``, an optional parameter made generators stop (openapi-generator's python client,
    on a webhook's header) or name a type of its own (``ReportsListStatusType0``).
    """
    options = schema.get("anyOf", [])
    kept = [option for option in options if option != {"type": "null"}]
    if len(kept) != 1 or len(kept) == len(options):
        return schema
    outer = {k: v for k, v in schema.items() if k != "anyOf" and (k, v) != ("default", None)}
    return {**kept[0], **outer}


def _not_modified_as_its_copy(responses: dict[str, Any]) -> None:
    """A 304 sends the ``ETag`` and ``Cache-Control`` its 200 would have (RFC 9110 §15.4.5):
    a poller keeps the validator and how long to keep the copy from either answer."""
    headers = responses.get("200", {}).get("headers")
    if "304" in responses and headers:
        responses["304"].setdefault("headers", copy.deepcopy(headers))


def _finish_operation(
    operation: dict[str, Any], route: APIRoute | None, components: dict[str, Any]
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for parameter in operation.get("parameters", []):
        if "schema" in parameter:
            parameter["schema"] = sent_or_left_out(parameter["schema"])
    _not_modified_as_its_copy(responses)
    for status, response in list(responses.items()):
        if _is_default_validation_error(response):
            responses[status] = problem_responses(422)[422]
    if route is not None:
        scopes = required_scopes(route)
        operation["security"] = [] if scopes is None else [{BEARER: scopes}]
    if "requestBody" in operation:
        _lift_examples(operation["requestBody"].get("content", {}), components)
    for response in responses.values():
        _lift_examples(response.get("content", {}), components)
    summary = OPERATION_SUMMARIES.get(operation.get("operationId", ""))
    if summary is not None:
        operation["summary"] = summary
    for (operation_id, status), shown in RESPONSE_EXAMPLES.items():
        if operation.get("operationId") == operation_id:
            for media in responses.get(status, {}).get("content", {}).values():
                media["example"] = copy.deepcopy(shown)
    example = OPERATION_EXAMPLES.get(operation.get("operationId", ""))
    if example is not None:
        content = responses.get("200", {}).setdefault("content", {})
        if operation.get("operationId") == "operations_metrics":
            # The handler answers Prometheus' text format, which FastAPI cannot infer.
            content.clear()
            content[CONTENT_TYPE_LATEST] = {"schema": {"type": "string"}}
        for media in content.values():
            media.setdefault("example", example)
    if operation.get("operationId") == "operations_readyz":
        responses.setdefault("503", _READYZ_503)


def _webhook_example(name: str, operation: dict[str, Any]) -> None:
    """Each alert webhook's example is of its own type: a later version references the first;
    a take-down carries no child data, only the Cancel texts."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        example = copy.deepcopy(media.get("example"))
        if not isinstance(example, dict) or "alert" not in example:
            continue
        example["type"] = name
        alert = example["alert"]
        if name != "alert.issued":
            first = alert["identifier"]
            alert["references"] = [f"{alert['sender']},{first},{alert['sent']}"]
            alert["identifier"] = first.rsplit(":", 1)[0] + ":2"
            alert["sequence"] = 2
            alert["msg_type"] = "Update"
        if name in ("alert.cancelled", "alert.expired"):
            alert.update(msg_type="Cancel", urgency="Past", child=None, last_seen=None)
            alert.update(suspected_vehicle=None, companion=None, photo_urls=[])
            alert["info"] = [i.model_dump(mode="json") for i in cancel_info(status=alert["status"])]
        media["example"] = example


def finish(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _problem_schema(schemas)
    _restore_examples(schemas)
    components.setdefault("securitySchemes", {})[BEARER] = SECURITY_SCHEME
    # Each operation's route, by path and method (a route included from another router keeps
    # the id its own router gave it, so ids do not always match the document's).
    routes = {
        (context.route.path_format, method.lower()): context.route
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
        for method in context.route.methods or ()
    }
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                _finish_operation(item[method], routes.get((path, method)), schemas)
                if method.upper() in BODY_METHODS:
                    _declare_body_guard(item[method])
    for name, item in document.get("webhooks", {}).items():
        for method in _METHODS:
            if method in item:
                _finish_operation(item[method], None, schemas)
                # FastAPI declares its request validation on every route; a webhook's
                # answers are the partner's, and Tifli validates nothing there.
                item[method]["responses"].pop("422", None)
                _webhook_example(name, item[method])
    return document


def _declare_body_guard(operation: dict[str, Any]) -> None:
    """The body guard (``services.http_guards.JsonBodyGuard``) answers every POST, PUT and
    PATCH, one that reads no body too: its 413, 415 and 422 are declared on each."""
    responses = operation.setdefault("responses", {})
    for code, entry in problem_responses(*WITH_BODY).items():
        responses.setdefault(str(code), entry)


def _set(example: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    for key in path[:-1]:
        example = example[key]
    example[path[-1]] = value


def with_fresh_times(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The document with each time-checked request example set relative to ``now``."""
    document = copy.deepcopy(document)
    schemas = document.get("components", {}).get("schemas", {})
    for name, (path, offset) in FRESH_TIMES.items():
        moment = (now + offset).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        for example in schemas.get(name, {}).get("examples", []):
            _set(example, path, moment)
        ref = _SCHEMA_PREFIX + name
        for item in document.get("paths", {}).values():
            for method in _METHODS:
                body = item.get(method, {}).get("requestBody", {})
                for media in body.get("content", {}).values():
                    if media.get("schema", {}).get("$ref") == ref and "example" in media:
                        _set(media["example"], path, moment)
    return document


def install_openapi(app: FastAPI, clock: Clock) -> None:
    """Replace ``app.openapi``: FastAPI's document, finished once, with fresh times per call."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    finished: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not finished:
            finished.update(finish(generate(), app))
        return with_fresh_times(finished, clock.now())

    app.openapi = openapi  # type: ignore[method-assign]
