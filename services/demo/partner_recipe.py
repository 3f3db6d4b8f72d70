"""The README's partner recipe ("Verifying a webhook, as a partner"), word for word: the
drill's partner checks every signature with it, so the drill proves the recipe too (a test
keeps the two copies equal)."""

# ruff: noqa: E401, I001 - kept exactly as partners copy it from the README
import base64, hashlib, hmac, time


def verify_standard_webhooks(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Keyed with the base64-decoded bytes after "whsec_", over
    "<webhook-id>.<webhook-timestamp>.<raw body>"; base64, with a "v1," prefix."""
    webhook_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or abs(time.time() - int(timestamp)) > 300:
        return False  # missing, too old, or from the future: a replay
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # One signature per active secret, space-separated: any match is enough.
    signatures = headers.get("webhook-signature", "").encode().split(b" ")
    return any(hmac.compare_digest(expected.encode(), s) for s in signatures)


def verify_meta(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Meta's X-Hub-Signature-256: keyed with the whole secret string as given, hex. During
    a rotation the old secret signs X-Hub-Signature-256-Previous: either may match yours."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    signed = [headers.get("x-hub-signature-256"), headers.get("x-hub-signature-256-previous")]
    return any(s is not None and hmac.compare_digest(s.encode(), expected.encode()) for s in signed)
