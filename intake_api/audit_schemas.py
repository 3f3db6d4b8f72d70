"""Response bodies of the audit log API: ids, acts and times, never personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

AUDIT_ENTRY_EXAMPLE: dict[str, Any] = {
    "seq": 42,
    "at": "2026-11-29T14:05:12.204118Z",
    "key_id": "3f9a1c2b7d4e",
    "key_name": "review-casablanca",
    "action": "approve",
    "case_id": "0b5f2d4e-7c1a-4f3e-9a6b-2d8c1e0f4a7b",
    "target_key_id": None,
    "target_key_name": None,
    "prev_hash": "9d2c5e0f8b7a6d3c1e4f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d",
    "entry_hash": "4a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f",
}


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,
        json_schema_extra={"examples": [AUDIT_ENTRY_EXAMPLE]},
    )

    seq: int = Field(description="The entry's place in the chain: 1, 2, 3, … with no gap.")
    at: datetime
    key_id: str = Field(
        description="The acting key's id; `cli`: an operator at the host; `retention`: the "
        "retention sweep; `reconcile`: an act re-applied after a database restore "
        "(`tifli reports reconcile`)."
    )
    key_name: str | None = Field(
        default=None, description="The acting key's name as it is now; null: not a key."
    )
    action: str = Field(description="What was done: `submit`, `approve`, `key_revoke`, …")
    case_id: str | None = Field(description="The case (report id) acted on; null: a key.")
    target_key_id: str | None = Field(description="The key acted on; null: a case.")
    target_key_name: str | None = Field(default=None, description="That key's name as it is now.")
    prev_hash: str = Field(description="The previous entry's `entry_hash` (SHA-256, hex).")
    entry_hash: str = Field(
        description="SHA-256 of this entry's canonical content, `prev_hash` included: "
        "`tifli audit verify` recomputes the whole chain."
    )


class AuditPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [AUDIT_ENTRY_EXAMPLE], "next_offset": None}]}
    )

    items: list[AuditEntryOut]
    next_offset: int | None
