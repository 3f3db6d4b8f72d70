"""A key pasted into a URL is masked wherever it sits in its segment: the access log and a
problem's ``instance`` repeat the path."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from shared.key_shape import masked_path
from shared.problems import Problem, install_problem_handlers, not_found, problem_response

KEY = "tfk_0a1b2c3d4e5f_Zx9-Qw8_Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8Vb7Nm6"
SECRET = KEY.split("_", 2)[2]


@pytest.mark.parametrize(
    ("path", "masked"),
    [
        (f"/v1/keys/{KEY}/revoke", "/v1/keys/tfk_0a1b2c3d4e5f_…/revoke"),
        # Copied with what stood before it in a header, a config file or a shell line.
        (f"/v1/keys/Bearer {KEY}/revoke", "/v1/keys/Bearer tfk_0a1b2c3d4e5f_…/revoke"),
        (f"/v1/keys/ {KEY}/revoke", "/v1/keys/ tfk_0a1b2c3d4e5f_…/revoke"),
        (f'/v1/reports/"{KEY}"', '/v1/reports/"tfk_0a1b2c3d4e5f_…'),
        (f"/anything/key={KEY}", "/anything/key=tfk_0a1b2c3d4e5f_…"),
        # Not a key: left as it is.
        ("/v1/reports/tfk_notakey", "/v1/reports/tfk_notakey"),
        ("/v1/keys/0a1b2c3d4e5f/revoke", "/v1/keys/0a1b2c3d4e5f/revoke"),
    ],
)
def test_a_key_is_masked_wherever_it_starts_in_its_segment(path: str, masked: str) -> None:
    assert masked_path(path) == masked
    assert SECRET not in masked_path(path)


def test_a_problem_does_not_repeat_a_key_pasted_after_bearer() -> None:
    response = problem_response(
        Problem(404, "Not found", "No such key."), f"/v1/keys/Bearer {KEY}/revoke"
    )
    text = bytes(response.body).decode()
    body = json.loads(text)
    assert SECRET not in text
    assert body["instance"] == "/v1/keys/Bearer%20tfk_0a1b2c3d4e5f_%E2%80%A6/revoke"


@pytest.mark.parametrize("pasted", [f"[{KEY}]", f":{KEY}", f".{KEY}", f"k:{KEY}"])
def test_a_404_does_not_name_a_key_pasted_with_a_character_before_it(pasted: str) -> None:
    problem = not_found("key", pasted)
    assert problem.detail == "No such key."


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),  # a 500, "unhandled error"
        # The database away (503, "dependency unavailable"): the key's own lookup fails too.
        DBAPIError("SELECT 1", {}, OSError("gone"), connection_invalidated=True),
    ],
)
async def test_an_error_logged_on_a_request_does_not_log_a_key_in_its_path(
    error: Exception, log_output: io.StringIO
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/keys/{key_id}/revoke")
    async def revoke(key_id: str) -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(f"/v1/keys/{KEY}/revoke")
    assert response.status_code in (500, 503)
    [line] = [json.loads(text) for text in log_output.getvalue().splitlines()]
    assert line["path"] == "/v1/keys/tfk_0a1b2c3d4e5f_…/revoke"
    assert SECRET not in log_output.getvalue()
