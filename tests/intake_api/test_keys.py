"""Keys with a lifecycle over HTTP: created for a unit or national, listed
without their secrets, revoked (refused from the next request on), expired on time, last use
recorded; every creation and revocation audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from intake_api.models import AuditEntry
from services.testbed.stack import FakeClock, Stack, embedded_settings, start_stack
from shared.auth import add_unit, create_api_key, key_id_of

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(START)


@asynccontextmanager
async def _stack_with_a_unit(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Stack]:
    settings = embedded_settings(tmp_path, timer_poll_interval_s=3600)
    running, server = await start_stack(settings, clock)
    async with running.embedded.sessions() as session, session.begin():
        await add_unit(session, "CASA-ANFA", "DGSN Casablanca Anfa", START)
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


@pytest.fixture
async def stack(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Stack]:
    async with _stack_with_a_unit(tmp_path, clock) as running:
        yield running


@pytest.fixture(scope="module")
async def refusing_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The module's stack for the keys refused: a refusal makes no key, so the cases share
    one (a stack each was most of their time); each checks that its request wrote nothing."""
    async with _stack_with_a_unit(tmp_path_factory.mktemp("keys"), FakeClock(START)) as running:
        yield running


async def _audit(stack: Stack) -> list[tuple[str, str, str | None, str | None]]:
    async with stack.embedded.sessions() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [(r.key_id, r.action, r.report_id, r.target_key_id) for r in rows]


async def test_create_list_use_and_revoke_a_key(stack: Stack, clock: FakeClock) -> None:
    admin_id = key_id_of(stack.keys["admin"])
    async with stack.client("admin") as admin:
        created = await admin.post(
            "/v1/keys",
            json={"name": "casa-desk", "scopes": ["reports:read"], "unit": "CASA-ANFA"},
        )
        assert created.status_code == 201, created.text
        key = created.json()
        assert key["unit"] == "CASA-ANFA" and key["state"] == "active"
        assert key["key"].startswith(f"tfk_{key['id']}_")

        headers = {"Authorization": f"Bearer {key['key']}"}
        assert (await admin.get("/v1/reports", headers=headers)).status_code == 200
        [listed] = [
            k for k in (await admin.get("/v1/keys")).json()["items"] if k["id"] == key["id"]
        ]
        assert "key" not in listed  # the secret is shown once, at creation
        assert listed["last_used_at"] == START.isoformat().replace("+00:00", "Z")

        clock.advance(timedelta(minutes=5))
        revoked = await admin.post(f"/v1/keys/{key['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
        # Effective on the very next request.
        refused = await admin.get("/v1/reports", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"

        again = await admin.post(f"/v1/keys/{key['id']}/revoke")
        assert again.status_code == 200
        assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
        assert (await admin.post("/v1/keys/000000000000/revoke")).status_code == 404
        # By id only: a name (it may name a person) or a whole key (a secret) in the URL
        # would be kept in access logs (``test_access_log``). Neither is found.
        other = (
            await admin.post(
                "/v1/keys", json={"name": "sgt-x", "scopes": ["reports:read"], "unit": None}
            )
        ).json()
        for path in (other["name"], other["key"]):
            assert (await admin.post(f"/v1/keys/{path}/revoke")).status_code == 404
        assert (await admin.get("/v1/keys")).json()["items"][-1]["state"] == "active"

    # Audited once each, by the acting key, about the key (no case).
    assert await _audit(stack) == [
        (admin_id, "key_create", None, key["id"]),
        (admin_id, "key_revoke", None, key["id"]),
        (admin_id, "key_create", None, other["id"]),
    ]


async def test_a_key_expires_on_time(stack: Stack, clock: FakeClock) -> None:
    async with stack.client("admin") as admin:
        created = await admin.post(
            "/v1/keys",
            json={"name": "temp", "scopes": ["reports:read"], "unit": None, "expires_in_days": 1},
        )
        key = created.json()
        assert key["unit"] is None  # national
        assert key["expires_at"] == (START + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        headers = {"Authorization": f"Bearer {key['key']}"}
        clock.advance(timedelta(days=1) - timedelta(seconds=1))
        assert (await admin.get("/v1/reports", headers=headers)).status_code == 200
        clock.advance(timedelta(seconds=1))
        assert (await admin.get("/v1/reports", headers=headers)).status_code == 401
        [listed] = [
            k for k in (await admin.get("/v1/keys")).json()["items"] if k["id"] == key["id"]
        ]
        assert listed["state"] == "expired"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["reports:read"], "unit": "NOWHERE"}, "unit"),
        ({"name": "x", "scopes": ["reports:fly"], "unit": None}, "scopes"),
        # Managing keys reaches every unit: never a unit key's scope.
        ({"name": "x", "scopes": ["keys:admin"], "unit": "CASA-ANFA"}, "scopes"),
        # Nor the partners every unit's alerts go to, nor every unit's deliveries.
        ({"name": "x", "scopes": ["partners:admin"], "unit": "CASA-ANFA"}, "scopes"),
        ({"name": "x", "scopes": ["deliveries:read"], "unit": "CASA-ANFA"}, "scopes"),
        ({"name": "x", "scopes": ["deliveries:ops"], "unit": "CASA-ANFA"}, "scopes"),
        (
            {"name": "x", "scopes": ["reports:read"], "unit": None, "expires_in_days": "90"},
            "expires_in_days",
        ),
        # A national key is asked for (null), never what a forgotten unit gives.
        ({"name": "x", "scopes": ["reports:read"]}, "unit"),
        ({"name": "x", "scopes": ["reports:read"], "unit": "casa anfa"}, "unit"),
    ],
)
async def test_keys_that_must_not_be_made(
    refusing_stack: Stack, body: dict[str, object], field: str
) -> None:
    audited = await _audit(refusing_stack)
    async with refusing_stack.client("admin") as admin:
        response = await admin.post("/v1/keys", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await _audit(refusing_stack) == audited


async def test_a_unit_key_made_earlier_with_a_national_scope_cannot_use_it(stack: Stack) -> None:
    # Written straight to the database, as a key made before the rule was.
    async with stack.embedded.sessions() as session, session.begin():
        stack.keys["old-unit-operator"] = await create_api_key(
            session,
            "old-unit-operator",
            ["partners:admin", "deliveries:read", "deliveries:ops", "reports:read"],
            START,
            unit="CASA-ANFA",
        )
    async with stack.client("old-unit-operator") as old:
        assert (await old.get("/v1/partners")).status_code == 403
        assert (await old.get("/v1/deliveries")).status_code == 403
        assert (await old.post("/v1/deliveries/x/replay")).status_code == 403
        assert (await old.get("/v1/reports")).status_code == 200  # its unit's scopes still work
    async with stack.client("admin") as admin:  # a national key keeps them
        assert (await admin.get("/v1/partners")).status_code == 200


async def test_only_keys_admin_manages_keys(stack: Stack) -> None:
    async with stack.client("reviewer") as reviewer:
        assert (await reviewer.get("/v1/keys")).status_code == 403
        made = await reviewer.post(
            "/v1/keys", json={"name": "x", "scopes": ["reports:read"], "unit": None}
        )
        assert made.status_code == 403
        revoke = await reviewer.post(f"/v1/keys/{key_id_of(stack.keys['admin'])}/revoke")
        assert revoke.status_code == 403
    async with stack.client() as anonymous:
        assert (await anonymous.get("/v1/keys")).status_code == 401


async def test_a_key_hands_out_no_scope_it_does_not_hold(stack: Stack) -> None:
    """A key that may only manage keys would make a submitter and a reviewer, and publish an
    alert alone past the four-eyes rule."""
    async with stack.embedded.sessions() as session, session.begin():
        stack.keys["keys-only"] = await create_api_key(
            session, "keys-only", ["keys:admin"], datetime.now(UTC)
        )
    async with stack.client("keys-only") as keys_only:
        for scopes in (["reports:submit"], ["reports:review", "keys:admin"]):
            refused = await keys_only.post(
                "/v1/keys", json={"name": "x", "scopes": scopes, "unit": None}
            )
            assert refused.status_code == 403, refused.text
            assert refused.json()["errors"][0]["field"] == "scopes"
            assert "reports:" in refused.json()["detail"]
        own = await keys_only.post(
            "/v1/keys", json={"name": "deputy", "scopes": ["keys:admin"], "unit": None}
        )
    assert own.status_code == 201, own.text
    assert [e[1] for e in await _audit(stack)] == ["key_create"]


async def test_a_key_makes_no_key_that_outlives_it(stack: Stack) -> None:
    """A key given for a few days would otherwise make itself a successor that never
    expires, and keep its reach after its own end."""
    async with stack.embedded.sessions() as session, session.begin():
        stack.keys["for-a-week"] = await create_api_key(
            session, "for-a-week", ["keys:admin"], START, expires_at=START + timedelta(days=7)
        )
    audited = await _audit(stack)
    async with stack.client("for-a-week") as temporary:
        refused = [
            await temporary.post(
                "/v1/keys",
                json={"name": "heir", "scopes": ["keys:admin"], "unit": None, **lifetime},
            )
            for lifetime in ({}, {"expires_in_days": None}, {"expires_in_days": 8})
        ]
        within = await temporary.post(
            "/v1/keys",
            json={"name": "deputy", "scopes": ["keys:admin"], "unit": None, "expires_in_days": 7},
        )
    for answer in refused:
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["expires_in_days"]
        assert "at most 7 days" in answer.json()["detail"]
    assert within.status_code == 201, within.text
    # The one key made is the one within its maker's life: the refusals made nothing.
    made = (await _audit(stack))[len(audited) :]
    assert [(action, target) for _, action, _, target in made] == [
        ("key_create", within.json()["id"])
    ]
    # A key that never expires makes keys of any lifetime, as before.
    async with stack.client("admin") as admin:
        lasting = await admin.post(
            "/v1/keys", json={"name": "lasting", "scopes": ["reports:read"], "unit": None}
        )
    assert lasting.status_code == 201, lasting.text


async def test_units_are_managed_through_the_api(stack: Stack) -> None:
    async with stack.client("admin") as admin:
        added = await admin.post("/v1/units", json={"code": "RABAT-AGDAL", "name": "Rabat Agdal"})
        again = await admin.post("/v1/units", json={"code": "RABAT-AGDAL", "name": "Rabat"})
        bad = await admin.post("/v1/units", json={"code": "rabat agdal", "name": "Rabat"})
        listed = (await admin.get("/v1/units")).json()["items"]
        key = await admin.post(
            "/v1/keys", json={"name": "r", "scopes": ["reports:read"], "unit": "RABAT-AGDAL"}
        )
    assert added.status_code == 201 and again.status_code == 409 and bad.status_code == 422
    assert [u["code"] for u in listed] == ["CASA-ANFA", "RABAT-AGDAL"]
    assert key.status_code == 201 and key.json()["unit"] == "RABAT-AGDAL"
    async with stack.client("reviewer") as reviewer:
        assert (await reviewer.get("/v1/units")).status_code == 403


async def test_the_shown_examples_work(stack: Stack) -> None:
    async with stack.client() as anonymous:
        paths = (await anonymous.get("/openapi.json")).json()["paths"]
    # The example makes a reviewer's key: the key making it holds those scopes itself.
    example_scopes = paths["/v1/keys"]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]["scopes"]
    async with stack.embedded.sessions() as session, session.begin():
        stack.keys["lead"] = await create_api_key(
            session, "lead", ["keys:admin", *example_scopes], datetime.now(UTC)
        )
    async with stack.client("lead") as admin:
        for path in ("/v1/units", "/v1/keys"):
            example = paths[path]["post"]["requestBody"]["content"]["application/json"]["example"]
            response = await admin.post(path, json=example)
            assert response.status_code == 201, (path, response.text)
