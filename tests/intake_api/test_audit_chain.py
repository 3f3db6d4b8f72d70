"""The audit hash chain's rules, over entries built in memory: what each kind of tampering
looks like to the check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from intake_api.audit_chain import (
    GENESIS_HASH,
    Break,
    ChainCheck,
    ChainedEntry,
    Head,
    entry_hash,
)

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def first_break(entries: Iterable[ChainedEntry], head: Head) -> Break | None:
    """The check as ``audit_log.verify`` runs it, entry by entry, then against the head."""
    check = ChainCheck()
    for entry in entries:
        broken = check.check(entry)
        if broken is not None:
            return broken
    return check.finish(head)


def _entry(row_id: int, seq: int, at: datetime, action: str, prev_hash: str) -> ChainedEntry:
    """An entry whose hash is right for its content."""
    key_id, report_id = "3f9a1c2b7d4e", f"case-{row_id}"
    digest = entry_hash(
        seq=seq,
        at=at,
        key_id=key_id,
        action=action,
        report_id=report_id,
        target_key_id=None,
        prev_hash=prev_hash,
    )
    return ChainedEntry(row_id, seq, at, key_id, action, report_id, None, prev_hash, digest)


def _chain(length: int) -> list[ChainedEntry]:
    entries: list[ChainedEntry] = []
    prev = GENESIS_HASH
    for seq in range(1, length + 1):
        action = "approve" if seq % 2 else "submit"
        entries.append(_entry(seq + 100, seq, START + timedelta(seconds=seq), action, prev))
        prev = entries[-1].entry_hash
    return entries


def _head(entries: list[ChainedEntry]) -> Head:
    return Head(entries[-1].seq, entries[-1].entry_hash)


def test_an_intact_chain_holds() -> None:
    entries = _chain(5)
    assert first_break(entries, _head(entries)) is None
    assert first_break([], Head(0, GENESIS_HASH)) is None


def test_a_changed_entry_is_named() -> None:
    entries = _chain(5)
    head = _head(entries)
    entries[2] = replace(entries[2], action="reject")
    broken = first_break(entries, head)
    assert broken is not None and (broken.row_id, broken.seq) == (103, 3)
    assert "changed" in str(broken) and "row id 103" in str(broken)


def test_a_changed_time_is_seen_as_a_change() -> None:
    entries = _chain(3)
    head = _head(entries)
    entries[1] = replace(entries[1], at=START + timedelta(seconds=2, microseconds=1))
    broken = first_break(entries, head)
    assert broken is not None and broken.seq == 2


def test_a_time_that_is_no_time_is_a_change() -> None:
    # What the database stores there does not read as a time (garbage written in SQL).
    entries = _chain(3)
    head = _head(entries)
    entries[1] = replace(entries[1], at=None)
    broken = first_break(entries, head)
    assert broken is not None and (broken.row_id, broken.seq) == (102, 2)
    assert "changed" in str(broken)


def test_a_deleted_entry_leaves_a_gap() -> None:
    entries = _chain(5)
    head = _head(entries)
    del entries[1]
    broken = first_break(entries, head)
    assert broken is not None and (broken.row_id, broken.seq) == (103, 3)
    assert "seq 2 is missing" in str(broken)


def test_a_deleted_entry_renumbered_and_rehashed_alone_breaks_the_next_link() -> None:
    # Someone deletes entry 2 and rewrites entry 3 as a valid "seq 2" on entry 1: entry 4's
    # link still names the old entry 3.
    entries = _chain(5)
    head = _head(entries)
    third = entries[2]
    forged = _entry(third.id, 2, START, third.action, entries[0].entry_hash)
    tampered = [entries[0], forged, *entries[3:]]
    broken = first_break(tampered, head)
    assert broken is not None and broken.row_id == 104


def test_swapped_entries_are_seen() -> None:
    entries = _chain(4)
    head = _head(entries)
    second, third = entries[1], entries[2]
    entries[1] = replace(third, seq=2)
    entries[2] = replace(second, seq=3)
    broken = first_break(entries, head)
    assert broken is not None and broken.seq == 2


def test_deleting_the_last_entries_falls_short_of_the_head() -> None:
    entries = _chain(5)
    head = _head(entries)
    broken = first_break(entries[:3], head)
    assert broken is not None and broken.row_id is None
    assert "ends at seq 3" in str(broken) and "seq 5" in str(broken)
