"""The ids the API hands out (reports, alerts, sightings, partners, deliveries), as clients
send them back.

They are UUIDs, written in lower case. RFC 9562 (§4) makes a UUID's hex digits
case-insensitive on input, and some police systems store and print them in capitals (.NET's
``Guid.ToString("D").ToUpper()``, SQL Server's ``uniqueidentifier``): the same id in capitals
must find the same case, not a 404 that reads as a case gone. Anything that is not a UUID is
left as it is (and found by nothing)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def canonical_id(value: str) -> str:
    """``value`` in the form the API writes ids, if it is a UUID in another letter case."""
    return value.lower() if _UUID.fullmatch(value) else value


EntityId = Annotated[str, AfterValidator(canonical_id)]
