"""Values encrypted at rest with the data key (Fernet), and the rotation of that key.

``TIFLI_DATA_KEY`` holds one key or several, comma-separated, newest first: new values are
sealed with the first; values sealed with any of them open. Re-sealing every stored value with
the newest key (``tifli data-key rotate``) is what lets an operator then drop the old ones.
A value sealed under a key that is no longer listed does not open: :class:`SealedValueError`,
never a silent empty value.
"""

from __future__ import annotations

import json
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealedValueError(Exception):
    """A sealed value none of the configured keys opens (a removed key, or a damaged value)."""


def parse_keys(keys: str) -> list[str]:
    """``TIFLI_DATA_KEY``'s text → its keys, newest first (blanks around commas ignored)."""
    return [k.strip() for k in keys.split(",") if k.strip()]


def fernets(keys: str) -> list[Fernet]:
    """``TIFLI_DATA_KEY``'s keys, each ready to seal or open; a ValueError saying what is
    wrong with the setting (settings check it at start-up with this, so that a typo is one
    line naming the variable, not a traceback from the first value sealed)."""
    parsed = parse_keys(keys)
    if not parsed:
        raise ValueError("no data key given")
    try:
        return [Fernet(k.encode()) for k in parsed]
    except ValueError:
        # Fernet's own message would not say which setting is wrong.
        raise ValueError(
            "each comma-separated key must be a Fernet key (32 bytes, urlsafe base64)"
        ) from None


class Sealer:
    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet(fernets(keys))

    def seal_text(self, text: str) -> str:
        """``text`` encrypted with the newest data key."""
        return self._fernet.encrypt(text.encode()).decode()

    def unseal_text(self, token: str) -> str:
        """The text sealed in ``token``, with whichever key opens it (SealedValueError: none
        does)."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SealedValueError(
                "a sealed value opens with none of the keys in TIFLI_DATA_KEY "
                "(sealed under a key that was removed before `tifli data-key rotate` ran?)"
            ) from None

    def seal(self, data: dict[str, Any]) -> str:
        """A JSON object sealed as text."""
        return self.seal_text(json.dumps(data, ensure_ascii=False))

    def unseal(self, token: str) -> dict[str, Any]:
        """The JSON object sealed in ``token``."""
        return cast(dict[str, Any], json.loads(self.unseal_text(token)))

    def reseal(self, token: str) -> str:
        """The same value sealed with the newest key (content and Fernet timestamp unchanged)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SealedValueError(
                "a sealed value opens with none of the keys in TIFLI_DATA_KEY"
            ) from None

    @staticmethod
    def new_key() -> str:
        """A fresh Fernet key, as TIFLI_DATA_KEY takes it."""
        return Fernet.generate_key().decode()
