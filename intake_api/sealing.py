"""Restricted report fields: split from the public ones and encrypted at rest (brief §6)."""

from __future__ import annotations

import json
from typing import Any, cast

from cryptography.fernet import Fernet

# (section, field) pairs that never leave intake. ``None`` means the whole section.
RESTRICTED: tuple[tuple[str, str | None], ...] = (
    ("child", "family_name"),
    ("child", "birth_date"),
    ("guardian", None),
    ("submitted_by", None),
    ("notes", None),
)


def split_restricted(report: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pure: a JSON-able report → (public part, restricted part)."""
    public = json.loads(json.dumps(report))
    restricted: dict[str, Any] = {}
    for section, field in RESTRICTED:
        if section not in public:
            continue
        if field is None:
            restricted[section] = public.pop(section)
        elif isinstance(public[section], dict) and field in public[section]:
            restricted.setdefault(section, {})[field] = public[section].pop(field)
    return public, restricted


def merge_restricted(public: dict[str, Any], restricted: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = json.loads(json.dumps(public))
    for section, value in restricted.items():
        if isinstance(value, dict) and isinstance(merged.get(section), dict):
            merged[section].update(value)
        else:
            merged[section] = value
    return merged


class Sealer:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()

    def unseal(self, token: str) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self._fernet.decrypt(token.encode())))

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()
