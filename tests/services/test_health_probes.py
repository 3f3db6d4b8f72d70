"""Health probes answer HEAD as they answer GET: load balancers and uptime checkers often
probe with HEAD, and a 405 there reads as "down"."""

from __future__ import annotations

from services.testbed.stack import Stack
from tests.waiting import eventually


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
