"""The access log says which key made each request, refused ones included, by id."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.testbed.stack import embedded_settings, start_stack
from shared.auth import key_id_of


async def test_each_request_names_the_key_that_made_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    running, server = await start_stack(embedded_settings(tmp_path))
    try:
        with caplog.at_level(logging.INFO, logger="tifli.access"):
            async with running.client("submitter") as police:
                assert (await police.get("/v1/reports")).status_code == 200
                assert (await police.get("/v1/partners")).status_code == 403
            async with running.client() as anonymous:
                assert (await anonymous.get("/v1/reports")).status_code == 401
            # A key pasted where its id belongs: the log keeps the id, not the secret.
            async with running.client("admin") as admin:
                pasted = running.keys["submitter"]
                refused = await admin.post(f"/v1/keys/{pasted}/revoke")
                assert refused.status_code == 404
    finally:
        await server.__aexit__(None, None, None)
    lines = [
        (r.path, r.status, getattr(r, "key_id", None))  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "tifli.access"
    ]
    police_key = key_id_of(running.keys["submitter"])
    assert lines == [
        ("/v1/reports", 200, police_key),
        ("/v1/partners", 403, police_key),  # refused, and still attributed
        ("/v1/reports", 401, None),
        (f"/v1/keys/tfk_{police_key}_…/revoke", 404, key_id_of(running.keys["admin"])),
    ]
    assert all(running.keys["submitter"] not in r.getMessage() for r in caplog.records)
    secret = running.keys["submitter"].split("_", 2)[2]
    assert all(secret not in str(vars(r)) for r in caplog.records)
    # Nor does the answer repeat it (clients and gateways log error bodies): its path is
    # masked as the log's is, and the key it did not find is not named.
    problem = refused.json()
    assert secret not in refused.text
    assert problem["instance"] == f"/v1/keys/tfk_{police_key}_%E2%80%A6/revoke"
    assert problem["detail"] == "No such key."
