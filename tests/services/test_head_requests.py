"""HEAD is answered wherever GET is, as the GET would be but without a body: load balancers
and uptime checkers probe with it (a 405 there reads as "down"), and so does ``curl -I``."""

from __future__ import annotations

import httpx

from services.testbed.stack import Stack
from tests.waiting import eventually

# Headers that differ between two answers to the same request.
_PER_RESPONSE = {"date", "x-request-id"}


def _differing_headers(head: httpx.Response, get: httpx.Response) -> dict[str, tuple[str, str]]:
    """The headers in which the two answers differ (besides the per-response ones)."""
    names = (set(head.headers) | set(get.headers)) - _PER_RESPONSE
    return {
        name: (head.headers.get(name, ""), get.headers.get(name, ""))
        for name in sorted(names)
        if head.headers.get(name) != get.headers.get(name)
    }


async def test_the_probes_answer_head_like_get_without_a_body(stack: Stack) -> None:
    async with stack.client() as anonymous:
        alive = await anonymous.head("/healthz")
        assert (alive.status_code, alive.content) == (200, b"")
        ready = await eventually(
            lambda: anonymous.get("/readyz"), lambda response: response.status_code == 200
        )
        probed = await anonymous.head("/readyz")
        assert (probed.status_code, probed.content) == (ready.status_code, b"")
        document = (await anonymous.get("/openapi.json")).json()
    # The same operations as the GETs: the document lists each once.
    assert set(document["paths"]["/healthz"]) == {"get"}
    assert set(document["paths"]["/readyz"]) == {"get"}


async def test_pages_and_the_api_answer_head_as_their_get(stack: Stack) -> None:
    async with stack.client() as anonymous, stack.client("admin") as admin:
        for client, path in (
            (anonymous, "/docs"),
            (anonymous, "/openapi.json"),
            (anonymous, "/v1/partners"),  # no key: the GET's 401
            (admin, "/v1/partners"),
            (admin, "/v1/reports/no-such-report"),  # the GET's 404
        ):
            get = await client.get(path)
            head = await client.head(path)
            assert head.status_code == get.status_code, path
            assert head.content == b"", path
            assert _differing_headers(head, get) == {}, path
            assert int(head.headers["content-length"]) == len(get.content), path


async def test_head_where_no_get_is_allowed_is_the_gets_405(stack: Stack) -> None:
    async with stack.client("reviewer") as reviewer:
        get = await reviewer.get("/v1/reports/no-such-report/approve")
        head = await reviewer.head("/v1/reports/no-such-report/approve")
    assert get.status_code == head.status_code == 405
    assert head.headers["allow"] == get.headers["allow"] == "POST"
    assert head.content == b""


async def test_a_405_names_every_method_of_the_path(stack: Stack) -> None:
    """RFC 9110: a 405's ``Allow`` lists the methods the resource supports, though several
    routes answer them (GET and POST of /v1/reports are two operations)."""
    async with stack.client("admin") as admin:
        reports = await admin.put("/v1/reports", json={})
        partner = await admin.put("/v1/partners/no-such-partner", json={})
        document = (await admin.get("/openapi.json")).json()
    assert reports.status_code == partner.status_code == 405
    assert reports.headers["content-type"] == "application/problem+json"
    for answer, path in ((reports, "/v1/reports"), (partner, "/v1/partners/{partner_id}")):
        declared = {m.upper() for m in document["paths"][path]} | {"HEAD"}
        assert set(answer.headers["allow"].split(", ")) == declared, path
    assert {"GET", "POST"} <= set(reports.headers["allow"].split(", "))
