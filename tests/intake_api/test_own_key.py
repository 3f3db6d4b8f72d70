"""GET /v1/keys/me: any valid key reads what it is, never its secret; no key is a 401."""

from __future__ import annotations

from services.testbed.stack import KEY_SCOPES, Stack
from shared.auth import key_id_of


async def test_each_key_reads_its_own_scopes(stack: Stack) -> None:
    for name, scopes in KEY_SCOPES.items():
        async with stack.client(name) as client:
            answer = await client.get("/v1/keys/me")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "id": key_id_of(stack.keys[name]),
            "name": name,
            "scopes": sorted(scopes),
            "unit": None,
        }
        assert stack.keys[name] not in answer.text


async def test_without_a_valid_key_it_is_a_401(stack: Stack) -> None:
    async with stack.client() as anonymous:
        missing = await anonymous.get("/v1/keys/me")
        wrong = await anonymous.get(
            "/v1/keys/me", headers={"Authorization": "Bearer tfk_000000000000_nope"}
        )
    for answer in (missing, wrong):
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
