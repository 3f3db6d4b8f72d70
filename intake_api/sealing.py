"""Restricted report fields: split from the public ones, to be sealed at rest with
``shared.sealing`` (they never leave intake, and a copy of the database alone must not
expose them)."""

from __future__ import annotations

import json
from typing import Any

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
    """The whole report again: the sealed restricted fields put back into a copy of the public
    part."""
    merged: dict[str, Any] = json.loads(json.dumps(public))
    for section, value in restricted.items():
        if isinstance(value, dict) and isinstance(merged.get(section), dict):
            merged[section].update(value)
        else:
            merged[section] = value
    return merged
