"""The README is the newcomer's manual: it must document every setting that exists."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [
        f"TIFLI_{name.upper()}"
        for name in Settings.model_fields
        if f"TIFLI_{name.upper()}" not in README
    ]
    assert not missing


def test_every_setting_says_what_it_is_for() -> None:
    """CONTRIBUTING's rule: the description is what `--help`-like tools and readers of the
    code meet first, beside the README's table."""
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []


def test_exactly_the_two_setup_commands() -> None:
    assert "make run" in README
    assert "make test" in README


def test_the_partner_verification_recipe_works() -> None:
    import time
    from typing import Any

    from dispatcher.signing import new_secret, signature_headers

    start = README.index("```python\nimport base64, hashlib, hmac, time")
    code = README[start + len("```python\n") : README.index("```\n", start + 10)]
    recipe: dict[str, Any] = {}
    exec(code, recipe)

    secret, old, body = new_secret(), new_secret(), b'{"type":"alert.issued"}'
    headers = {
        k.lower(): v
        for k, v in signature_headers([secret, old], "msg_x", int(time.time()), body).items()
    }
    assert recipe["verify_standard_webhooks"](secret, headers, body)
    assert recipe["verify_standard_webhooks"](old, headers, body)  # during a rotation
    assert recipe["verify_meta"](secret, headers, body)
    assert not recipe["verify_standard_webhooks"](secret, headers, body + b" ")
    assert not recipe["verify_meta"](new_secret(), headers, body)
    # A request without the headers, or with a timestamp that is no number, is refused,
    # not a crash of the partner's handler.
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert not recipe["verify_standard_webhooks"](secret, headers | {missing: ""}, body)
        without = {k: v for k, v in headers.items() if k != missing}
        assert not recipe["verify_standard_webhooks"](secret, without, body)
    for timestamp in ("12e3", "\u00b2", "\u0661\u0662"):  # digits Python's int() reads or not
        malformed = headers | {"webhook-timestamp": timestamp}
        assert not recipe["verify_standard_webhooks"](secret, malformed, body)
    assert not recipe["verify_meta"](secret, {}, body)
    garbled = headers | {"webhook-signature": "v1,\u00e9", "x-hub-signature-256": "\u00e9"}
    assert not recipe["verify_standard_webhooks"](secret, garbled, body)
    assert not recipe["verify_meta"](secret, garbled, body)
