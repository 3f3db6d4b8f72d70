"""Signed CAP: every document served carries an enveloped XML digital signature (RSA-SHA256)
that a partner verifies with signxml against the certificate from /v1/cap/certificate; a
changed byte fails. Where the key pair comes from: settings (PEM text or paths, checked), a
development pair kept beside the SQLite file, or — with PostgreSQL — a refusal to start unless
CAP is explicitly unsigned."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from signxml.exceptions import InvalidDigest, InvalidSignature
from signxml.verifier import VerifyResult, XMLVerifier

from alert_engine.cap_signature import development_pair
from services.cap_keys import cap_signer
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.settings import Settings
from tests.waiting import eventually

SCHEMA = xmlschema.XMLSchema(
    Path(__file__).parents[2] / "alert_engine" / "data" / "cap" / "CAP-v1.2.xsd"
)
POSTGRES_URL = "postgresql+asyncpg://tifli@127.0.0.1:5432/tifli"


async def _signed_cap(stack: Stack) -> bytes:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=report_body())
        report_id = created.json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    async with stack.client("reader") as reader:
        url = f"/v1/alerts/{approved.json()['alert_id']}/cap"
        found = await eventually(lambda: reader.get(url), lambda r: r.status_code != 404)
    assert found.status_code == 200, found.text
    return found.content


async def _certificate(stack: Stack) -> str:
    async with httpx.AsyncClient(base_url=stack.base_url) as anyone:  # no key: public
        answer = await anyone.get("/v1/cap/certificate")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pem-certificate-chain"
    return answer.text


async def test_a_partner_verifies_the_cap_and_a_changed_byte_fails(stack: Stack) -> None:
    document = await _signed_cap(stack)
    certificate = await _certificate(stack)

    verified = XMLVerifier().verify(document, x509_cert=certificate)
    assert isinstance(verified, VerifyResult) and verified.signed_xml is not None
    assert verified.signed_xml.findtext("{*}identifier", "").startswith("urn:tifli:alert:")
    SCHEMA.validate(document.decode())  # the signature sits where CAP 1.2 allows it
    assert b"rsa-sha256" in document and b"enveloped-signature" in document

    # One byte changed in the content (the identifier's first letter), then in the signature.
    # The new byte is a letter either way, so the signature stays valid base64 and what fails
    # is the check of the signature, not the parsing of the document.
    content_at = document.index(b"<identifier>") + len(b"<identifier>")
    signature_at = document.index(b"<ds:SignatureValue>") + len(b"<ds:SignatureValue>")
    for at in (content_at, signature_at):
        letter = b"B" if document[at : at + 1] == b"A" else b"A"
        tampered = document[:at] + letter + document[at + 1 :]
        with pytest.raises((InvalidSignature, InvalidDigest)):
            XMLVerifier().verify(tampered, x509_cert=certificate)

    # Another key's certificate does not vouch for it either.
    _, stranger = development_pair()
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(document, x509_cert=stranger.decode())


async def test_the_development_pair_outlives_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = embedded_settings(tmp_path)
    certificates = []
    for _ in range(2):
        with caplog.at_level(logging.WARNING, logger="services.cap_keys"):
            running, server = await start_stack(settings)
        try:
            certificates.append(await _certificate(running))
        finally:
            await server.__aexit__(None, None, None)
    assert certificates[0] == certificates[1]
    assert "development certificate" in caplog.text
    key_file = tmp_path / "tifli.db.cap-key.pem"
    assert key_file.stat().st_mode & 0o077 == 0  # the private key is the owner's alone


def _pair_files(tmp_path: Path) -> tuple[Path, Path]:
    key_pem, certificate_pem = development_pair()
    key_file, certificate_file = tmp_path / "cap.key", tmp_path / "cap.crt"
    key_file.write_bytes(key_pem)
    certificate_file.write_bytes(certificate_pem)
    return key_file, certificate_file


def test_a_pair_from_settings_as_paths_or_pem(tmp_path: Path) -> None:
    key_file, certificate_file = _pair_files(tmp_path)
    for key, certificate in (
        (str(key_file), str(certificate_file)),
        (key_file.read_text(), certificate_file.read_text()),
    ):
        signer = cap_signer(
            Settings(
                database_url=POSTGRES_URL, cap_signing_key=key, cap_signing_certificate=certificate
            )
        )
        assert signer is not None and signer.certificate_pem == certificate_file.read_bytes()


def _small_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_settings_that_cannot_sign_stop_the_start(tmp_path: Path) -> None:
    key_file, certificate_file = _pair_files(tmp_path)
    _, other_certificate = development_pair()
    refused = {
        "mismatched": (str(key_file), other_certificate.decode(), "not the signing key's"),
        "half": (str(key_file), None, "set both"),
        "no file": (str(tmp_path / "missing.pem"), str(certificate_file), "readable file"),
        "not a key": (certificate_file.read_text(), str(certificate_file), "not an unencrypted"),
        "too small": (_small_key_pem(), str(certificate_file), "1024 bits"),
    }
    for key, certificate, message in refused.values():
        settings = Settings(
            database_url=POSTGRES_URL, cap_signing_key=key, cap_signing_certificate=certificate
        )
        with pytest.raises(RuntimeError, match=message):
            cap_signer(settings)


def test_production_without_a_key_refuses_to_start_unless_unsigned_is_chosen() -> None:
    with pytest.raises(RuntimeError, match="TIFLI_CAP_UNSIGNED=true"):
        cap_signer(Settings(database_url=POSTGRES_URL))
    assert cap_signer(Settings(database_url=POSTGRES_URL, cap_unsigned=True)) is None


async def test_an_unsigned_deployment_says_so(tmp_path: Path) -> None:
    running, server = await start_stack(embedded_settings(tmp_path, cap_unsigned=True))
    try:
        async with httpx.AsyncClient(base_url=running.base_url) as anyone:
            answer = await anyone.get("/v1/cap/certificate")
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert b"<ds:Signature" not in await _signed_cap(running)
    finally:
        await server.__aexit__(None, None, None)


async def test_the_readme_recipe_verifies_and_refuses(stack: Stack) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("```python\nfrom signxml.verifier import XMLVerifier")
    recipe: dict[str, Any] = {}
    exec(readme[start + len("```python\n") : readme.index("```\n", start + 10)], recipe)
    document, certificate = await _signed_cap(stack), await _certificate(stack)

    signed = recipe["verified_cap"](document, certificate)
    assert b"<identifier>urn:tifli:alert:" in signed and b"Signature" not in signed
    changed = document.replace(b"<status>Actual</status>", b"<status>Actuel</status>")
    assert changed != document
    with pytest.raises((InvalidSignature, InvalidDigest)):
        recipe["verified_cap"](changed, certificate)
