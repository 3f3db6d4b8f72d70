"""The ordering rules as queries: which deliveries wait for an earlier version, which an
arriving version may supersede, and which newer versions count against an older one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Delivery
from dispatcher.ordering import (
    earlier_version_owed,
    earlier_versions_waiting,
    newer_version_exists,
    newer_versions,
    replaced_in_flight,
    replaced_while_waiting,
)
from tests.dispatcher.conftest import NOW, delivery, partner


async def _store(sessions: async_sessionmaker[AsyncSession], *rows: Delivery) -> None:
    async with sessions() as session, session.begin():
        session.add_all([partner("p1"), partner("p2")])
        await session.flush()
        session.add_all(rows)


@pytest.mark.parametrize(
    ("first_status", "owed"),
    [
        ("pending", True),
        ("sending", True),
        ("delivered", False),
        ("dead", False),
        ("superseded", False),
    ],
)
async def test_a_version_waits_while_an_earlier_one_is_owed_to_the_same_partner(
    sessions: async_sessionmaker[AsyncSession], first_status: str, owed: bool
) -> None:
    await _store(
        sessions,
        delivery("p1", "a", 1, first_status, "alert.issued"),
        delivery("p1", "a", 2, "pending"),
        # Other partners and other alerts are never held back by it.
        delivery("p2", "a", 2, "pending"),
        delivery("p1", "b", 2, "pending"),
    )
    async with sessions() as session:
        # Correlated with the row of the enclosing query, as the claim uses it.
        free = set(
            await session.scalars(select(Delivery.id).where(~earlier_version_owed(Delivery)))
        )
        # For one loaded delivery, as a fresh claim uses it.
        second = await session.get_one(Delivery, "p1-a-2")
        blocked = await session.scalar(select(earlier_version_owed(second)))
    assert blocked is owed
    expected = {"p1-a-1", "p2-a-2", "p1-b-2"} | (set() if owed else {"p1-a-2"})
    assert free == expected


async def test_a_new_version_may_supersede_only_earlier_versions_still_waiting(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _store(
        sessions,
        delivery("p1", "a", 1, "pending", "alert.issued"),
        delivery("p1", "a", 2, "sending"),  # in flight: left to finish
        delivery("p1", "a", 3, "dead"),  # given up on: superseded, no longer one to replay
        delivery("p1", "a", 4, "pending"),
        delivery("p2", "a", 4, "pending"),  # another partner's
        delivery("p1", "b", 4, "pending"),  # another alert's
    )
    arriving = delivery("p1", "a", 5, "pending", "alert.cancelled")
    async with sessions() as session:
        waiting = set(
            await session.scalars(select(Delivery.id).where(earlier_versions_waiting(arriving)))
        )
    assert waiting == {"p1-a-1", "p1-a-3", "p1-a-4"}


def _in_flight(
    partner_id: str, alert_id: str, sequence: int, event_type: str, lease_s: int
) -> Delivery:
    row = delivery(partner_id, alert_id, sequence, "sending", event_type)
    row.lease_until = NOW + timedelta(seconds=lease_s)
    return row


async def test_a_version_whose_sender_died_is_superseded_if_a_newer_one_replaces_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _store(
        sessions,
        # The sender of each died mid-send (lease run out), then a newer version came.
        _in_flight("p1", "a", 1, "alert.issued", -5),
        delivery("p1", "a", 2, "pending", "alert.cancelled"),  # a take-down replaces all
        _in_flight("p1", "b", 2, "alert.updated", -5),
        delivery("p1", "b", 3, "pending"),  # an Update replaces an Update
        _in_flight("p1", "c", 1, "alert.issued", -5),
        delivery("p1", "c", 2, "pending"),  # but never the first Alert: it is sent again
        _in_flight("p1", "d", 1, "alert.issued", 30),  # still leased: its sender may live
        delivery("p1", "d", 2, "pending", "alert.cancelled"),
        _in_flight("p2", "a", 1, "alert.issued", -5),  # nothing newer for this partner
        _in_flight("p1", "e", 1, "alert.issued", -5),
        delivery("p1", "e", 2, "superseded", "alert.cancelled"),  # a newer one, superseded
    )
    async with sessions() as session:
        replaced = set(await session.scalars(select(Delivery.id).where(replaced_in_flight(NOW))))
    assert replaced == {"p1-a-1", "p1-b-2"}


async def test_a_waiting_version_is_superseded_if_a_newer_one_replaces_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Planning supersedes what it finds waiting, but not a version then in flight whose
    attempt failed afterwards: pending again, out of planning's sight, it would hold the
    newer version back until its own next attempt."""
    await _store(
        sessions,
        _retried("p1", "a", 1, "alert.issued"),
        delivery("p1", "a", 2, "pending", "alert.cancelled"),  # a take-down replaces all
        _retried("p1", "b", 2, "alert.updated"),
        delivery("p1", "b", 3, "pending"),  # an Update replaces an Update
        _retried("p1", "c", 1, "alert.issued"),
        delivery("p1", "c", 2, "pending"),  # but never the first Alert
        _retried("p2", "a", 1, "alert.issued"),  # nothing newer for this partner
        _retried("p1", "e", 1, "alert.issued"),
        delivery("p1", "e", 2, "superseded", "alert.cancelled"),  # a newer one, superseded
        _in_flight("p1", "f", 1, "alert.issued", 30),  # on its way: left to finish
        delivery("p1", "f", 2, "pending", "alert.cancelled"),
    )
    async with sessions() as session:
        replaced = set(await session.scalars(select(Delivery.id).where(replaced_while_waiting())))
    assert replaced == {"p1-a-1", "p1-b-2"}


def _retried(partner_id: str, alert_id: str, sequence: int, event_type: str) -> Delivery:
    """A version whose attempt failed: pending again, its next attempt an hour away."""
    row = delivery(partner_id, alert_id, sequence, "pending", event_type)
    row.attempts, row.next_attempt_at = 1, NOW + timedelta(hours=1)
    return row


async def test_newer_versions_count_unless_superseded(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _store(
        sessions,
        delivery("p1", "a", 1, "dead", "alert.issued"),
        delivery("p1", "a", 2, "superseded"),
        delivery("p1", "a", 3, "delivered"),
        delivery("p1", "a", 4, "pending", "alert.cancelled"),
        delivery("p2", "a", 5, "pending"),  # another partner's
        delivery("p1", "b", 5, "pending"),  # another alert's
    )
    async with sessions() as session:
        first = await session.get_one(Delivery, "p1-a-1")
        last = await session.get_one(Delivery, "p1-a-4")
        newer = set(await session.scalars(select(Delivery.id).where(newer_versions(first))))
        first_has_newer = await session.scalar(select(newer_version_exists(first)))
        last_has_newer = await session.scalar(select(newer_version_exists(last)))
    assert newer == {"p1-a-3", "p1-a-4"}
    assert first_has_newer is True
    assert last_has_newer is False
