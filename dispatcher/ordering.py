"""The per-partner ordering rules: each partner gets an alert's versions in sequence order,
an Update never before its Alert, and nothing stale after a newer version.

One pure rule (``replaces``) and the SQL expressions the dispatcher's queries are built from,
so that each rule is written once. "Earlier" and "newer" versions of a delivery always mean
deliveries with the same ``alert_id`` and ``partner_id`` and a lower or higher ``sequence``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Exists, SQLColumnExpression, and_, exists, literal, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.models import Delivery

TAKE_DOWNS = frozenset({"alert.cancelled", "alert.expired"})

# A version is owed while it waits for its turn or is on its way; a delivered, dead or
# superseded one is no longer owed and holds nothing back.
OWED = ("pending", "sending")


def replaces(newer_type: str, older_type: str) -> bool:
    """Whether a newer version makes an older one, not yet delivered, pointless to send.

    A take-down replaces everything. An Update replaces an older Update; never the first
    Alert, so a partner never sees an Update before its Alert.
    """
    return newer_type in TAKE_DOWNS or older_type != "alert.issued"


def replaces_in_sql(
    newer_type: SQLColumnExpression[str], older_type: SQLColumnExpression[str]
) -> ColumnElement[bool]:
    """``replaces``, for two rows a query compares."""
    return or_(newer_type.in_(sorted(TAKE_DOWNS)), older_type != "alert.issued")


def earlier_version_owed(of: type[Delivery] | Delivery) -> Exists:
    """True when an earlier version of ``of`` is still owed to its partner (pending or being
    sent): ``of`` must wait, or it would overtake it. Nothing is claimed while this holds.

    ``of`` is a loaded delivery, or the ``Delivery`` class itself for the row of the
    enclosing query (the condition is then correlated with it)."""
    earlier = aliased(Delivery)
    return exists().where(
        earlier.alert_id == of.alert_id,
        earlier.partner_id == of.partner_id,
        earlier.sequence < of.sequence,
        earlier.status.in_(OWED),
    )


def earlier_versions_waiting(of: Delivery) -> ColumnElement[bool]:
    """Matches the earlier versions of ``of`` not delivered and not in flight (pending, or
    dead: given up on): those the new version ``of`` supersedes where ``replaces`` says so
    (a dead one superseded is no longer a failure to replay). One being sent is left to
    finish; should it fail, ``newer_versions`` decides its fate; should its sender die, so
    does ``replaced_in_flight``."""
    return and_(
        Delivery.alert_id == of.alert_id,
        Delivery.partner_id == of.partner_id,
        Delivery.sequence < of.sequence,
        Delivery.status.in_(("pending", "dead")),
    )


def replaced_in_flight(now: datetime) -> ColumnElement[bool]:
    """Matches deliveries whose sender died mid-send (a lease run out) and that a newer
    version ``replaces``: they are superseded, not sent again. (Planning left them alone, as
    they were in flight; sending one now would show the partner an alert after its Cancel.)"""
    return and_(Delivery.status == "sending", Delivery.lease_until < now, replaced_by_newer())


def replaced_while_waiting() -> ColumnElement[bool]:
    """Matches pending deliveries that a newer version ``replaces``: superseded, never sent.
    Planning supersedes those it sees, but not one in flight then (or being claimed): should
    that attempt fail, it is pending again, and if its outcome was recorded before the newer
    version committed, nothing else would drop it. It would hold a Cancel back until its own
    next attempt, an hour away or more, with the alert still up."""
    return and_(Delivery.status == "pending", replaced_by_newer())


def replaced_by_newer() -> Exists:
    """True for the row of the enclosing query when a newer version (``newer_versions``)
    ``replaces`` it."""
    newer = aliased(Delivery)
    return exists().where(
        newer.alert_id == Delivery.alert_id,
        newer.partner_id == Delivery.partner_id,
        newer.sequence > Delivery.sequence,
        newer.status != "superseded",
        replaces_in_sql(newer.event_type, Delivery.event_type),
    )


def replaced_by_newer_than(of: Delivery) -> Exists:
    """``replaced_by_newer`` for a loaded delivery, such as one just planned. A version
    planned after newer ones (its event dead-lettered, then sent again by ``tifli events
    redrive``) is stale: sent, the partner would get it after the newer ones."""
    return exists().where(
        newer_versions(of), replaces_in_sql(Delivery.event_type, literal(of.event_type))
    )


def newer_versions(of: Delivery) -> ColumnElement[bool]:
    """Matches the newer versions of ``of`` that are not superseded, whatever their state
    (pending, being sent, delivered or dead). They count in two ways:

    - any of them means ``of`` may not be replayed: the partner would get a stale version
      after a newer one (``newer_version_exists``);
    - a failed ``of`` is dropped rather than retried only if one of them ``replaces`` it:
      an Update does not replace the first Alert, which must still arrive first.
    """
    return and_(
        Delivery.alert_id == of.alert_id,
        Delivery.partner_id == of.partner_id,
        Delivery.sequence > of.sequence,
        Delivery.status != "superseded",
    )


def newer_version_exists(of: Delivery) -> Exists:
    """True when ``of`` has a newer version that is not superseded (``newer_versions``)."""
    return exists().where(newer_versions(of))


def taken_down(of: Delivery) -> Exists:
    """True when the alert of ``of`` was taken down after that version (a Cancel or an Expire
    planned for any partner): after that, no partner may be sent it. A later version can
    bring an expired alert back (a renewal); it is not taken down by the earlier Expire."""
    return exists().where(
        Delivery.alert_id == of.alert_id,
        Delivery.sequence > of.sequence,
        Delivery.event_type.in_(sorted(TAKE_DOWNS)),
    )
