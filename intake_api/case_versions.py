"""A case's version, as HTTP's entity tags carry it: pure, no I/O.

A reviewer approves what they read. Between their read and their approval, the case may be
corrected or may gain a sighting; an approval that names the version it reviewed
(``If-Match``) is refused if the case changed since (412), so that what goes out is what a
second pair of eyes saw. Every change of a case moves its ``updated_at`` (``ReportService``'s
``_record``), so the version is drawn from that and the case's id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime


def case_version(report_id: str, updated_at: datetime) -> str:
    """The opaque version of a case as it is now (the entity tag without its quotes)."""
    seen = f"{report_id}:{updated_at.isoformat()}".encode()
    return hashlib.sha256(seen).hexdigest()[:20]


def entity_tag(version: str) -> str:
    """The ``ETag`` header's value for a version: a strong entity tag (RFC 9110 §8.8.3)."""
    return f'"{version}"'


def matches(if_match: str, version: str) -> bool:
    """Whether an ``If-Match`` header names the version: ``*``, or a list of entity tags one
    of which is it, compared strongly (a weak tag ``W/"…"`` never matches). An unquoted tag
    is read as the same tag quoted: clients that forget the quotes mean the same thing."""
    if if_match.strip() == "*":
        return True
    tags = [tag.strip() for tag in if_match.split(",")]
    return any(tag in (entity_tag(version), version) for tag in tags)
