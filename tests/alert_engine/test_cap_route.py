"""GET /v1/alerts/{id}/cap over real HTTP: CAP 1.2 XML per version, 404 problem+json."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from alert_engine.cap import CAP_NS
from alert_engine.cap_signature import CapSigner, development_pair
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.settings import Settings
from tests.waiting import eventually

SCHEMA = xmlschema.XMLSchema(
    Path(__file__).parents[2] / "alert_engine" / "data" / "cap" / "CAP-v1.2.xsd"
)
NS = {"cap": CAP_NS}


def _text(root: ET.Element, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None and found.text is not None, path
    return found.text


async def test_cap_of_each_version(stack: Stack) -> None:
    body = report_body()
    body["child"]["given_name"] = "أمينة ⴰⵎⵉⵏⴰ"
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
        alert_id = approved.json()["alert_id"]

        async with stack.client("reader") as reader:
            # The alert engine issues the alert from the approval event, just after the 200.
            url = f"/v1/alerts/{alert_id}/cap"
            first = await eventually(lambda: reader.get(url), lambda r: r.status_code != 404)
            assert first.status_code == 200, first.text
            assert first.headers["content-type"].split(";")[0] == "application/cap+xml"
            SCHEMA.validate(first.content.decode("utf-8"))
            root = ET.fromstring(first.content)
            assert _text(root, "cap:msgType") == "Alert"
            assert _text(root, "cap:incidents") == alert_id
            assert [_text(i, "cap:language") for i in root.findall("cap:info", NS)] == [
                "ar",
                "fr",
                "zgh",
                "en",
            ]
            assert "أمينة ⴰⵎⵉⵏⴰ" in _text(root, "cap:info/cap:headline")
            # The CAP carries what the JSON API shows for the same version.
            current = (await reader.get(f"/v1/alerts/{alert_id}")).json()["current"]
            assert _text(root, "cap:identifier") == current["identifier"]
            for secret in ("Benali", "600 000 000", "Idrissi"):
                assert secret not in first.text

            resolved = await police.post(f"/v1/reports/{report_id}/resolve", json={})
            assert resolved.status_code == 200, resolved.text

            latest = await eventually(
                lambda: reader.get(url), lambda r: b"<msgType>Cancel</msgType>" in r.content
            )
            assert latest.status_code == 200, latest.text
            SCHEMA.validate(latest.content.decode("utf-8"))
            cancel = ET.fromstring(latest.content)
            assert _text(cancel, "cap:msgType") == "Cancel"
            references = _text(cancel, "cap:references").split(" ")
            assert references == [
                ",".join(_text(root, f"cap:{tag}") for tag in ("sender", "identifier", "sent"))
            ]

            again = await reader.get(f"/v1/alerts/{alert_id}/cap", params={"sequence": 1})
            assert again.status_code == 200
            assert again.headers["content-type"].split(";")[0] == "application/cap+xml"
            assert again.content == first.content  # a version's CAP never changes
            # A CAP client polling: its copy's ETag answers 304 until the document changes.
            assert again.headers["etag"] == first.headers["etag"]
            assert again.headers["cache-control"] == "private, no-cache"
            held = {"If-None-Match": first.headers["etag"]}
            unchanged = await reader.get(url, params={"sequence": 1}, headers=held)
            assert unchanged.status_code == 304 and unchanged.content == b""
            assert unchanged.headers["etag"] == first.headers["etag"]
            moved_on = await reader.get(url, headers=held)  # the current version: the Cancel
            assert moved_on.status_code == 200 and moved_on.content == latest.content
            assert moved_on.headers["etag"] not in (first.headers["etag"], "")

            missing = await reader.get(f"/v1/alerts/{alert_id}/cap", params={"sequence": 9})
            assert missing.status_code == 404
            assert missing.headers["content-type"].startswith("application/problem+json")
            assert missing.json()["status"] == 404


async def test_a_poll_answered_304_signs_nothing_and_a_new_key_makes_a_new_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CAP client polls every few seconds: a 304 costs no RSA signature. Its ETag is taken
    before signing, so it must still change with the key: after a rotation the copy held,
    signed under the old key, is answered in full, signed under the new one."""
    signed: list[bytes] = []
    sign = CapSigner.sign

    def counted(signer: CapSigner, document: bytes) -> bytes:
        signed.append(signer.certificate_digest)
        return sign(signer, document)

    monkeypatch.setattr(CapSigner, "sign", counted)
    before_pair, after_pair = development_pair(), development_pair()
    running, server = await start_stack(_signed_by(tmp_path, before_pair))
    try:
        async with running.client("submitter") as police, running.client("reviewer") as reviewer:
            created = await police.post("/v1/reports", json=report_body())
            report_id = created.json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            url = f"/v1/alerts/{approved.json()['alert_id']}/cap"
        async with running.client("reader") as reader:
            first = await eventually(lambda: reader.get(url), lambda r: r.status_code != 404)
            assert first.status_code == 200 and len(signed) == 1
            held = {"If-None-Match": first.headers["etag"]}
            for _ in range(3):
                polled = await reader.get(url, headers=held)
                assert polled.status_code == 304
            assert len(signed) == 1
    finally:
        await server.__aexit__(None, None, None)

    running, server = await start_stack(_signed_by(tmp_path, after_pair))
    try:
        async with running.client("reader") as reader:
            rotated = await reader.get(url, headers=held)
    finally:
        await server.__aexit__(None, None, None)
    assert rotated.status_code == 200 and rotated.headers["etag"] != first.headers["etag"]
    new_signer = CapSigner.from_pem(*after_pair)
    assert signed[1:] == [new_signer.certificate_digest]
    assert rotated.content != first.content


def _signed_by(tmp_path: Path, pair: tuple[bytes, bytes]) -> Settings:
    key_pem, certificate_pem = pair
    return embedded_settings(
        tmp_path, cap_signing_key=key_pem.decode(), cap_signing_certificate=certificate_pem.decode()
    )


async def test_unknown_alert_is_a_404_problem(stack: Stack) -> None:
    async with stack.client("reader") as reader:
        response = await reader.get("/v1/alerts/no-such-alert/cap")
        zero = await reader.get("/v1/alerts/no-such-alert/cap", params={"sequence": 0})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 404 and "no-such-alert" in problem["detail"]
    assert zero.status_code == 422  # sequences start at 1


async def test_needs_alerts_read(stack: Stack) -> None:
    async with stack.client("submitter") as police:
        forbidden = await police.get("/v1/alerts/no-such-alert/cap")
    async with stack.client() as anonymous:
        unauthenticated = await anonymous.get("/v1/alerts/no-such-alert/cap")
    assert forbidden.status_code == 403
    assert unauthenticated.status_code == 401
