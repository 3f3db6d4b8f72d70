"""Webhook signatures: Meta's ``X-Hub-Signature-256`` and Standard Webhooks, both on every POST.

One secret per partner, ``whsec_<base64>``. Standard Webhooks keys its HMAC with the decoded
bytes; Meta's header is keyed with the whole secret string, as Meta keys with the app secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret (32 random bytes), in Standard Webhooks' ``whsec_`` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def meta_signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256``: HMAC-SHA256 of the raw body, as Meta's webhooks sign."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature``: Standard Webhooks' HMAC over id, timestamp and body (the timestamp
    stops replays)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secrets_: list[str], webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Headers for one POST. ``secrets_`` is newest first; during a rotation both sign, so a
    partner that still holds the old secret verifies too (Standard Webhooks lists them
    space-separated; Meta's header carries the newest, its ``…-Previous`` twin the old one)."""
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(s, webhook_id, timestamp, body) for s in secrets_
        ),
        "X-Hub-Signature-256": meta_signature(secrets_[0], body),
    }
    if len(secrets_) > 1:
        headers["X-Hub-Signature-256-Previous"] = meta_signature(secrets_[1], body)
    return headers
