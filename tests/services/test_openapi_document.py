"""The OpenAPI document is the operators' and partners' manual: valid, signed in, with errors,
examples that work as shown, readable operation ids and the partner webhooks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from pydantic import BaseModel
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from alert_engine.schemas import AlertOut, AlertPage
from dispatcher.ping import ping_body
from dispatcher.schemas import (
    DeliveryOut,
    DeliveryPage,
    PartnerIn,
    PartnerPage,
    PartnerWithSecret,
    PingPayload,
    RotateIn,
    WebhookPayload,
)
from intake_api.audit_schemas import AuditPage
from intake_api.gazetteer import load_gazetteer
from intake_api.own_key_routes import OwnKeyOut
from intake_api.places import resolve_place
from intake_api.schemas import (
    ApproveIn,
    ReasonIn,
    RenewIn,
    ReportIn,
    ReportOut,
    ReportPage,
    ResolveIn,
    SightingIn,
    SightingOut,
)
from services.api import create_app
from services.components import ALL_ROLES, build_components
from services.testbed.partner import partner_endpoint
from services.testbed.stack import Stack, embedded_settings
from shared.alert_contract import AlertMessage
from shared.problem_schema import PlaceCandidate, ProblemDetails
from shared.problems import PROBLEM_JSON, Problem

PUBLIC = {"/healthz", "/readyz", "/metrics", "/v1/cap/certificate"}
# Any valid key, whatever its scopes: what the calling key is, the maps (no case data).
ANY_KEY = {"/v1/keys/me", "/v1/map/base", "/v1/map/service-area", "/v1/map/place"}
# A method name a person would choose: <tag>_<verb>[_<object>], lower case.
READABLE_ID = re.compile(
    r"^(reports|alerts|partners|deliveries|keys|audit|operations)_[a-z]+(_[a-z]+)?$"
)
JSON = "application/json"
# Each word capitalised, as RFC 9110 writes field names (a signature's "X-Hub-Signature-256").
HTTP_HEADER_NAME = re.compile(r"[A-Z][A-Za-z]*(-[A-Z0-9][A-Za-z0-9]*)*")


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = embedded_settings(tmp_path_factory.mktemp("openapi"))
    return create_app(build_components(settings, ALL_ROLES)).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_operation_ids_read_well_and_are_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    unreadable = [i for i in ids if not READABLE_ID.match(i)]
    assert not unreadable
    assert {"reports_submit", "reports_approve", "alerts_zone", "partners_register"} <= set(ids)


def test_every_operation_is_described(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("description", "")) > 20, (method, path)
        if path not in PUBLIC:
            assert "**Scope:**" in operation["description"], (method, path)
            assert "**Events:**" in operation["description"], (method, path)
    approve = document["paths"]["/v1/reports/{report_id}/approve"]["post"]
    assert "Four eyes" in approve["description"]


def test_protected_operations_take_the_bearer_key_and_name_their_scope(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"bearerAuth": {"type": "http", "scheme": "bearer", "description": ANY}}
    for path, method, operation in _operations(document):
        if path in PUBLIC:
            assert operation["security"] == [], path
        else:
            [requirement] = operation["security"]
            if path in ANY_KEY:
                assert requirement["bearerAuth"] == [], path
                assert "**Scope:** any" in operation["description"], path
                continue
            [scope] = requirement["bearerAuth"]
            assert scope in operation["description"], (method, path)


def test_every_error_is_problem_json(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        if path not in PUBLIC:
            assert {"401", "403", "429", "503"} <= set(responses), (method, path)
        if "requestBody" in operation or method in ("post", "put", "patch"):
            # The body guard answers these on every such operation, one that reads no body
            # too (a text body to /erase is a 415, a broken one a 422).
            assert {"413", "415", "422"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        for status, response in responses.items():
            if int(status) < 400 or path == "/readyz":
                continue
            assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
            media = response["content"][PROBLEM_JSON]
            assert media["schema"] == {"$ref": "#/components/schemas/Problem"}
            ProblemDetails.model_validate(media["example"])
            assert media["example"]["status"] == int(status)
    assert "Retry-After" in document["paths"]["/v1/reports"]["post"]["responses"]["429"]["headers"]


def _parameters(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method} {path}", parameter)
        for section in ("paths", "webhooks")
        for path, item in document[section].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
    ]


def test_parameters_are_sent_or_left_out_never_null(document: dict[str, Any]) -> None:
    """An optional query or header parameter is its own type: declared nullable, it stopped
    openapi-generator's python client (on a webhook's optional header) and named enums
    ``ReportsListStatusType0`` in openapi-python-client's."""
    nullable = [
        (where, parameter["name"])
        for where, parameter in _parameters(document)
        if "null" in str(parameter["schema"])
    ]
    assert not nullable
    parameters = {(where, p["name"]): p["schema"] for where, p in _parameters(document)}
    # What the null branch held stays: constraints, enums, descriptions.
    assert parameters[("post /v1/reports/{report_id}/approve", "If-Match")] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "title": "If-Match",
        "description": ANY,
    }
    # A correction is conditional as an approval is: the generated client sends If-Match.
    correct = ("patch /v1/reports/{report_id}", "If-Match")
    assert parameters[correct] == parameters[("post /v1/reports/{report_id}/approve", "If-Match")]
    assert "412" in document["paths"]["/v1/reports/{report_id}"]["patch"]["responses"]
    assert parameters[("get /v1/reports", "status")]["enum"][0] == "submitted"
    previous = parameters[("post alert.issued", "X-Hub-Signature-256-Previous")]
    assert previous["type"] == "string"


def test_header_parameters_are_spelt_as_http_spells_them(document: dict[str, Any]) -> None:
    """Named from a Python parameter, ``if_none_match`` became ``if-none-match`` in the
    document, and so in the clients generated from it (HTTP does not mind; a reader of the
    document, a proxy's allow-list and a log of the headers sent do)."""
    headers = [(w, p["name"]) for w, p in _parameters(document) if p["in"] == "header"]
    conditional = [(w, n) for w, n in headers if n.lower() == "if-none-match"]
    assert len(conditional) >= 3
    assert all(n == "If-None-Match" for _, n in conditional)
    # Standard Webhooks writes its own in lower case: partners' libraries look for those.
    own_spelling = ("webhook-id", "webhook-timestamp", "webhook-signature")
    assert not [
        (w, n) for w, n in headers if not HTTP_HEADER_NAME.fullmatch(n) and n not in own_spelling
    ]


def test_a_304_declares_the_headers_of_its_200(document: dict[str, Any]) -> None:
    """A conditional GET's 304 carries the ETag and Cache-Control its 200 would (RFC 9110
    §15.4.5): a poller keeps its validator from either answer."""
    conditional = [
        (path, operation["responses"])
        for path, _, operation in _operations(document)
        if "304" in operation["responses"]
    ]
    assert {path for path, _ in conditional} >= {"/v1/alerts/{alert_id}/cap", "/v1/map/base"}
    for path, responses in conditional:
        assert responses["304"]["headers"] == responses["200"]["headers"], path
        assert "ETag" in responses["304"]["headers"], path


def test_the_problem_declares_the_members_a_client_acts_on(document: dict[str, Any]) -> None:
    """A generated client reads them as typed fields, not as untyped extra members: the case's
    status after a 409, the case an Idempotency-Key filed, the places a name may mean."""
    problem = document["components"]["schemas"]["Problem"]
    assert {"status_now", "report_id", "candidates"} <= set(problem["properties"])
    assert "PlaceCandidate" in str(problem["properties"]["candidates"])
    # The candidates as a refused place name answers them, read by the declared schema (which
    # allows no member it does not declare).
    with pytest.raises(Problem) as refused:
        resolve_place(load_gazetteer(), "Sidi Ali", "last_seen.place_name")
    answered = ProblemDetails.model_validate(
        {"title": refused.value.title, "status": refused.value.status, **refused.value.extensions}
    )
    assert answered.candidates
    assert all(isinstance(c, PlaceCandidate) for c in answered.candidates)


def test_what_every_answer_holds_is_declared_required(document: dict[str, Any]) -> None:
    """An answer writes every member of its model, null or not: declared optional, a member
    such as a case's ``unit`` or an alert's ``next_widen_at`` reached a generated client as
    "maybe absent" too (``str | None | Unset``), a case it can never meet."""
    answered_only = {
        name: schema
        for name, schema in document["components"]["schemas"].items()
        if name.endswith(("Out", "Page", "List", "WithSecret", "Created"))
    }
    assert {"ReportOut", "SightingOut", "AlertOut", "AuditEntryOut", "UnitList"} <= set(
        answered_only
    )
    optional = {
        name: sorted(set(schema["properties"]) - set(schema.get("required", [])))
        for name, schema in answered_only.items()
    }
    assert {name: members for name, members in optional.items() if members} == {}


def test_every_body_and_response_has_an_example(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        if "requestBody" in operation:
            [media] = operation["requestBody"]["content"].values()
            assert "example" in media, (method, path)
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                assert "example" in media, (method, path, status, media_type)


# Each request and response example must be what the model it documents accepts.
EXAMPLES: list[tuple[str, str, str, type[BaseModel]]] = [
    ("/v1/reports", "post", "request", ReportIn),
    ("/v1/reports", "post", "201", ReportOut),
    ("/v1/reports", "get", "200", ReportPage),
    ("/v1/reports/{report_id}/approve", "post", "request", ApproveIn),
    ("/v1/reports/{report_id}/reject", "post", "request", ReasonIn),
    ("/v1/reports/{report_id}/renew", "post", "request", RenewIn),
    ("/v1/reports/{report_id}/resolve", "post", "request", ResolveIn),
    ("/v1/reports/{report_id}/sightings", "post", "request", SightingIn),
    ("/v1/reports/{report_id}/sightings", "post", "201", SightingOut),
    ("/v1/alerts", "get", "200", AlertPage),
    ("/v1/alerts/{alert_id}", "get", "200", AlertOut),
    ("/v1/alerts/{alert_id}/versions/{sequence}", "get", "200", AlertMessage),
    ("/v1/keys/me", "get", "200", OwnKeyOut),
    ("/v1/partners", "post", "request", PartnerIn),
    ("/v1/partners", "post", "201", PartnerWithSecret),
    ("/v1/partners", "get", "200", PartnerPage),
    ("/v1/partners/{partner_id}/rotate-secret", "post", "request", RotateIn),
    ("/v1/deliveries", "get", "200", DeliveryPage),
    ("/v1/deliveries/{delivery_id}", "get", "200", DeliveryOut),
    ("/v1/audit", "get", "200", AuditPage),
]


def _example(document: dict[str, Any], path: str, method: str, where: str) -> Any:
    operation = document["paths"][path][method]
    if where == "request":
        return operation["requestBody"]["content"][JSON]["example"]
    return operation["responses"][where]["content"][JSON]["example"]


@pytest.mark.parametrize(("path", "method", "where", "model"), EXAMPLES)
def test_examples_match_their_models(
    document: dict[str, Any], path: str, method: str, where: str, model: type[BaseModel]
) -> None:
    model.model_validate(_example(document, path, method, where))


def _shown_examples(node: Any, at: tuple[str | int, ...] = ()) -> Any:
    """Each example the document shows, with where its schema is: a media type's ``example``
    beside its ``schema``, and each of a schema's own ``examples``."""
    if isinstance(node, dict):
        if "example" in node and isinstance(node.get("schema"), dict):
            yield (*at, "schema"), node["example"]
        if at[:2] == ("components", "schemas") and len(at) == 3:
            for example in node.get("examples", []):
                yield at, example
        for key, value in node.items():
            yield from _shown_examples(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _shown_examples(value, (*at, index))


def test_examples_match_the_schemas_the_document_declares(document: dict[str, Any]) -> None:
    """The models accept a member they default, but the document declares it required: a
    generated client, or a mock server serving the examples, reads the example by the
    document, so a member left out of it (a case's ``erased_at``) fails there."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:tifli", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    wrong = []
    for at, example in _shown_examples(document):
        pointer = "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in at)
        validator = Draft202012Validator({"$ref": f"urn:tifli#/{pointer}"}, registry=registry)
        wrong += [(pointer, error.message) for error in validator.iter_errors(example)]
    assert wrong == []


def test_time_checked_examples_are_just_before_now(document: dict[str, Any]) -> None:
    submitted = _example(document, "/v1/reports", "post", "request")["last_seen"]["at"]
    sighted = _example(document, "/v1/reports/{report_id}/sightings", "post", "request")["at"]
    now = datetime.now(UTC)
    for moment, age in ((submitted, timedelta(minutes=30)), (sighted, timedelta(minutes=10))):
        assert abs(now - age - datetime.fromisoformat(moment)) < timedelta(minutes=1)


def test_webhooks_document_what_partners_receive(document: dict[str, Any]) -> None:
    webhooks = document["webhooks"]
    assert set(webhooks) == {
        "alert.issued",
        "alert.updated",
        "alert.cancelled",
        "alert.expired",
        "ping",
        "partner.verify",
    }
    # The test event as documented, and as sent, read by the documented schema.
    [ping_media] = webhooks["ping"]["post"]["requestBody"]["content"].values()
    PingPayload.model_validate(ping_media["example"])
    PingPayload.model_validate_json(ping_body("msg_1", datetime.now(UTC)))
    for name in ("alert.issued", "alert.updated", "alert.cancelled", "alert.expired", "ping"):
        operation = webhooks[name]["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        # Every signed delivery, the test event too, carries the old secret's Meta-style
        # signature during a rotation.
        assert {
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
            "X-Hub-Signature-256",
            "X-Hub-Signature-256-Previous",
        } <= headers
        # What the partner may answer; Tifli validates nothing there (no 422 of its own).
        assert set(operation["responses"]) == {"200"}
        if name == "ping":
            continue
        [media] = operation["requestBody"]["content"].values()
        payload = WebhookPayload.model_validate(media["example"])
        assert payload.type == name
        if name in ("alert.cancelled", "alert.expired"):
            # A take-down carries no child data.
            assert payload.alert.msg_type == "Cancel"
            assert payload.alert.child is None
            assert payload.alert.last_seen is None
    handshake = webhooks["partner.verify"]["get"]
    assert {p["name"] for p in handshake["parameters"]} == {
        "hub.mode",
        "hub.challenge",
        "hub.verify_token",
    }
    # The challenge is digits, as sent (``dispatcher.sender``), in the example too.
    [answer] = handshake["responses"]["200"]["content"].values()
    assert answer["example"].isdigit()


def test_tags_follow_the_case_and_are_described(document: dict[str, Any]) -> None:
    names = [t["name"] for t in document["tags"]]
    assert names[:4] == ["reports", "alerts", "partners", "deliveries"]
    assert all(t["description"] for t in document["tags"])


async def test_the_shown_examples_work_against_the_running_api(stack: Stack) -> None:
    """Submit, sight, approve, renew and rotate with the examples exactly as served."""
    async with stack.client() as anonymous:
        served = (await anonymous.get("/openapi.json")).json()
    async with (
        stack.client("submitter") as police,
        stack.client("reviewer") as reviewer,
        stack.client("admin") as admin,
    ):
        created = await police.post(
            "/v1/reports", json=_example(served, "/v1/reports", "post", "request")
        )
        assert created.status_code == 201, created.text
        report = f"/v1/reports/{created.json()['id']}"
        sighting = _example(served, "/v1/reports/{report_id}/sightings", "post", "request")
        sighted = await police.post(f"{report}/sightings", json=sighting)
        assert sighted.status_code == 201, sighted.text
        approval = _example(served, "/v1/reports/{report_id}/approve", "post", "request")
        approved = await reviewer.post(f"{report}/approve", json=approval)
        assert approved.status_code == 200, approved.text
        renewal = _example(served, "/v1/reports/{report_id}/renew", "post", "request")
        renewed = await reviewer.post(f"{report}/renew", json=renewal)
        assert renewed.status_code == 200, renewed.text

        async with partner_endpoint() as partner:
            registered = await stack.register_partner(partner)
        rotation = _example(served, "/v1/partners/{partner_id}/rotate-secret", "post", "request")
        rotated = await admin.post(f"/v1/partners/{registered['id']}/rotate-secret", json=rotation)
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] != registered["secret"]


async def test_metrics_answer_without_a_redirect(stack: Stack) -> None:
    async with stack.client() as anonymous:
        response = await anonymous.get("/metrics", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "tifli_case_actions_total" in response.text


async def test_partners_list_pages_like_every_list(stack: Stack) -> None:
    # Three endpoints: an endpoint is one partner's.
    async with partner_endpoint() as a, partner_endpoint() as b, partner_endpoint() as c:
        for partner in (a, b, c):
            await stack.register_partner(partner)
    async with stack.client("admin") as admin:
        first = (await admin.get("/v1/partners", params={"limit": 2})).json()
        second = (
            await admin.get("/v1/partners", params={"limit": 2, "offset": first["next_offset"]})
        ).json()
    assert first["next_offset"] == 2
    assert len(first["items"]) == 2
    assert second["next_offset"] is None
    assert len(second["items"]) == 1
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert len(set(ids)) == 3
    assert all("secret" not in p for p in first["items"])


def test_a_submission_s_example_is_a_case_before_review(document: dict[str, Any]) -> None:
    submitted = _example(document, "/v1/reports", "post", "201")
    assert submitted["status"] == "submitted"
    assert submitted["alert_id"] is None and submitted["reviewed_by_key"] is None
