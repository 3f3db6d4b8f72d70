"""The audit log's hash chain: pure rules, no I/O.

Each entry stores ``entry_hash``, the SHA-256 of its canonical content, and that content
includes ``prev_hash`` (the previous entry's hash) and ``seq`` (its place in the chain,
1, 2, 3, … with no gap). Changing an entry breaks its own hash; deleting one leaves a gap in
``seq``; moving one breaks the link to its neighbour; deleting the last ones falls short of
the chain head (the ``audit_chain_head`` row, which records the last ``seq`` and hash).

The canonical content is a fixed list of fields in a fixed form (compact JSON, sorted keys,
times in UTC to the microsecond), so the same row hashes the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from shared.clock import as_utc

# The link before the first entry.
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainedEntry:
    """An audit row as the chain sees it."""

    id: int
    seq: int
    # None: what is stored does not read as a time. Only tampering does that (SQLite's columns
    # take any value; PostgreSQL's timestamp column takes timestamps only).
    at: datetime | None
    key_id: str
    action: str
    report_id: str | None
    target_key_id: str | None
    prev_hash: str
    entry_hash: str


def entry_hash(
    *,
    seq: int,
    at: datetime,
    key_id: str,
    action: str,
    report_id: str | None,
    target_key_id: str | None,
    prev_hash: str,
) -> str:
    """The SHA-256 of an entry's canonical JSON, its predecessor's hash included: altering or
    removing an entry breaks every later hash."""
    canonical = json.dumps(
        {
            "seq": seq,
            "at": as_utc(at).isoformat(timespec="microseconds"),
            "key_id": key_id,
            "action": action,
            "report_id": report_id,
            "target_key_id": target_key_id,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_of(entry: ChainedEntry, at: datetime) -> str:
    """What ``entry``'s hash must be, given its content (its time read as ``at``)."""
    return entry_hash(
        seq=entry.seq,
        at=at,
        key_id=entry.key_id,
        action=entry.action,
        report_id=entry.report_id,
        target_key_id=entry.target_key_id,
        prev_hash=entry.prev_hash,
    )


@dataclass(frozen=True)
class Head:
    """The chain head: the last entry's ``seq`` (0: none yet) and hash."""

    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold: the row (id, when one is there) and why."""

    row_id: int | None
    seq: int
    reason: str

    def __str__(self) -> str:
        if self.row_id is None:
            return f"seq {self.seq}: {self.reason}"
        return f"row id {self.row_id} (seq {self.seq}): {self.reason}"


@dataclass
class ChainCheck:
    """Walks the entries in ``seq`` order, one at a time (the log may be long)."""

    verified: int = 0
    _last_hash: str = GENESIS_HASH

    def check(self, entry: ChainedEntry) -> Break | None:
        """The break ``entry`` shows, if any (a gap in ``seq`` or a link that does not match); else
        it becomes the entry the next must link to."""
        expected_seq = self.verified + 1
        if entry.seq != expected_seq:
            return Break(
                entry.id,
                entry.seq,
                f"seq {expected_seq} is missing before it (deleted, or renumbered)",
            )
        if entry.prev_hash != self._last_hash:
            return Break(
                entry.id,
                entry.seq,
                "its link does not match the entry before it (moved, or one before replaced)",
            )
        if entry.at is None:
            return Break(entry.id, entry.seq, "its time is not a timestamp (changed)")
        if entry.entry_hash != hash_of(entry, entry.at):
            return Break(entry.id, entry.seq, "its content does not match its hash (changed)")
        self.verified += 1
        self._last_hash = entry.entry_hash
        return None

    @property
    def last_hash(self) -> str:
        """The hash the next entry must link to: the last verified one's."""
        return self._last_hash

    def finish(self, head: Head) -> Break | None:
        """After the last entry: the chain must reach the head."""
        if head.last_seq != self.verified or head.last_hash != self._last_hash:
            return Break(
                None,
                self.verified + 1,
                f"the chain ends at seq {self.verified} but its head records seq "
                f"{head.last_seq} (last entries deleted, or the head changed)",
            )
        return None
