"""Conditional GETs (RFC 9110 §13): a client holding a copy sends its ``ETag`` back in
``If-None-Match`` and gets 304, no body, while the copy is current."""

from __future__ import annotations

import hashlib
from typing import Any

# The 304 for an endpoint's ``responses`` in the API document.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the copy whose ETag was sent is current."}
}


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weakly compared, as §13.1.2 says) or is ``*``."""
    if if_none_match is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def content_etag(body: bytes, *inputs: bytes) -> str:
    """A strong ETag of a document's bytes, or of what makes them: ``body`` and ``inputs``
    (each fixed in length, such as a digest, so that no two lists of them hash alike)."""
    digest = hashlib.sha256(body)
    for more in inputs:
        digest.update(more)
    return f'"{digest.hexdigest()[:32]}"'
