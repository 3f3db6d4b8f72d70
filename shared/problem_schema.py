"""The problem+json body as the OpenAPI document declares it (RFC 9457).

``shared.problems`` builds these bodies at run time; this module only describes them, so every
router can declare the errors it answers with one schema, one media type and an example.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.problems import PROBLEM_JSON

PROBLEM_SCHEMA = "Problem"
PROBLEM_REF = f"#/components/schemas/{PROBLEM_SCHEMA}"


class FieldError(BaseModel):
    field: str = Field(
        description="Dotted path of the offending input: `child.age`, `query.limit`."
    )
    message: str


class CandidateRegion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="ISO 3166-2 code of the region: `MA-06`.")
    fr: str | None = Field(description="The region's name in French.")
    ar: str | None = Field(description="The region's name in Arabic.")


class PlaceCandidate(BaseModel):
    """A place a name given for a location may mean (``intake_api.places.candidate_json``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="GeoNames' name of the place.")
    name_fr: str = Field(description="Its name in French (else GeoNames' name): it finds it.")
    name_ar: str | None = Field(description="Its name in Arabic, if known: it finds it too.")
    region: CandidateRegion
    lat: float
    lon: float
    population: int
    geonames_id: int


class ProblemDetails(BaseModel):
    """RFC 9457 problem details. The extension members declared here come with the problems
    that name them; others may follow."""

    model_config = ConfigDict(
        extra="allow",
        title=PROBLEM_SCHEMA,
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "child.age: Input should be less than or equal to 17",
                    "instance": "/v1/reports",
                    "errors": [
                        {
                            "field": "child.age",
                            "message": "Input should be less than or equal to 17",
                        }
                    ],
                }
            ]
        },
    )

    type: str = Field(default="about:blank", description="A URI naming the problem type.")
    title: str = Field(description="Short, human-readable summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong this time.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(
        default=None, description="One entry per offending field (validation errors)."
    )
    # Declared, so that a client generated from the document reads them as typed fields:
    # what a police system acts on after the problem (read the case again, recover the case a
    # lost answer filed, let the officer pick a place).
    status_now: str | None = Field(
        default=None,
        description="409 on a case's act: the case's status now (`approved`, `expired`, …).",
    )
    report_id: str | None = Field(
        default=None,
        description="409 on an `Idempotency-Key` used before with another body: the case the "
        "first request filed.",
    )
    candidates: list[PlaceCandidate] | None = Field(
        default=None,
        description="422 on a place name the gazetteer does not know or that names several "
        "places: the places it may mean, for the officer to pick (by name or point).",
    )


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}

# (title, description, example detail, extra members, headers) per status code.
_CATALOGUE: dict[int, tuple[str, str, str, dict[str, Any], dict[str, Any]]] = {
    400: ("Bad request", "The request cannot be read.", "The request is malformed.", {}, {}),
    401: (
        "Unauthenticated",
        "No API key, or one that is unknown, revoked or expired.",
        "Send an API key: 'Authorization: Bearer <key>'.",
        {},
        {
            "WWW-Authenticate": {
                "description": "Always `Bearer`.",
                "schema": {"type": "string"},
            }
        },
    ),
    403: (
        "Forbidden",
        "The key lacks the operation's scope, or the four-eyes rule forbids this key.",
        "This key lacks the 'reports:review' scope.",
        {},
        {},
    ),
    404: ("Not found", "No such resource (or not visible to this key).", "No report r_1.", {}, {}),
    409: (
        "Conflict",
        "The resource's current state does not allow this action.",
        "cannot approve a report that is approved",
        {"status_now": "approved"},
        {},
    ),
    412: (
        "Precondition failed",
        "The case changed since the version `If-Match` names was read: read it again, review "
        "what changed, and send its new version.",
        'The case changed since it was read (now version "6c1f0b9e2d7a4c3f8e51"): read it '
        "again and review what changed.",
        {},
        {},
    ),
    413: (
        "Body too large",
        "The body exceeds the configured limit (TIFLI_MAX_BODY_BYTES).",
        "The limit is 1000000 bytes.",
        {"errors": [{"field": "body", "message": "too large"}]},
        {},
    ),
    415: (
        "Unsupported media type",
        "The body is not JSON.",
        "Send the body as application/json.",
        {"errors": [{"field": "header.Content-Type", "message": "must be application/json"}]},
        {},
    ),
    422: (
        "Invalid request",
        "Invalid input; `errors` names each offending field.",
        "child.age: Input should be less than or equal to 17",
        {"errors": [{"field": "child.age", "message": "Input should be less than or equal to 17"}]},
        {},
    ),
    429: (
        "Too many requests",
        "This key's request rate is limited; wait as `Retry-After` says.",
        "This key's request rate is limited.",
        {},
        _RETRY_AFTER,
    ),
    503: (
        "Service unavailable",
        "The database is unreachable for a moment; retry after `Retry-After` seconds "
        "(with the same Idempotency-Key).",
        "The database (or another service Tifli needs) is unavailable for a moment; "
        "retry shortly with the same Idempotency-Key.",
        {},
        _RETRY_AFTER,
    ),
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of a route for the given error statuses, as problem+json."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        title, description, detail, extra, headers = _CATALOGUE[code]
        example = {"type": "about:blank", "title": title, "status": code, "detail": detail, **extra}
        entry: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}, "example": example}},
        }
        if headers:
            entry["headers"] = headers
        responses[code] = entry
    return responses


# The errors every authenticated operation can answer with, before its own logic runs.
AUTHENTICATED = (401, 403, 429, 503)
# Those of an operation that reads a JSON body (the body guard and validation).
WITH_BODY = (413, 415, 422)
