from __future__ import annotations

import base64
import hashlib
import hmac

from dispatcher.signing import meta_signature, new_secret, signature_headers, standard_signature


def test_standard_webhooks_published_vector() -> None:
    # The example in the Standard Webhooks specification's README.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = standard_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_meta_signature_keys_with_the_whole_secret_string() -> None:
    secret, body = new_secret(), b'{"a":1}'
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert meta_signature(secret, body) == f"sha256={expected}"
    # ...which is not the decoded key Standard Webhooks uses.
    decoded = base64.b64decode(secret.removeprefix("whsec_"))
    assert expected != hmac.new(decoded, body, hashlib.sha256).hexdigest()


def test_rotation_signs_with_both_secrets() -> None:
    new, old, body = new_secret(), new_secret(), b"{}"
    headers = signature_headers([new, old], "msg_1", 1700000000, body)
    assert headers["webhook-signature"].split(" ") == [
        standard_signature(new, "msg_1", 1700000000, body),
        standard_signature(old, "msg_1", 1700000000, body),
    ]
    assert headers["X-Hub-Signature-256"] == meta_signature(new, body)
    assert headers["X-Hub-Signature-256-Previous"] == meta_signature(old, body)
    assert "X-Hub-Signature-256-Previous" not in signature_headers([new], "msg_1", 1, body)
