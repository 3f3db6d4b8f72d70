"""What an API key looks like as text (``tfk_<id>_<secret>``): to find the id in a key pasted
where an id was expected, and to leave its secret out of what repeats a request (the access
log, a problem's ``detail`` and ``instance``). Pure, no I/O: ``shared.problems`` needs it, and
``shared.auth`` (which makes and checks keys) needs ``shared.problems``."""

from __future__ import annotations

import re

KEY_PREFIX = "tfk"
# A key anywhere in a text (a path segment, an id), not only as the whole of it: pasted as copied
# ("Bearer tfk_…", quoted, after "key="), its secret is as secret. What follows the id, to the
# text's end (in a path: its segment's), is taken as the secret, as ``key_parts`` takes it.
_KEY_IN_TEXT = re.compile(rf"{KEY_PREFIX}_([^_/]+)_.+", re.DOTALL)


def key_parts(text: str) -> tuple[str, str] | None:
    """(id, secret) of a key shaped as ``shared.auth.create_api_key`` makes them, else None."""
    prefix, _, rest = text.partition("_")
    key_id, _, secret = rest.partition("_")
    return (key_id, secret) if prefix == KEY_PREFIX and key_id and secret else None


def whole_key_id(text: str) -> str | None:
    """The id in ``text`` if it has the shape of a whole key, else None."""
    parts = key_parts(text)
    return parts[0] if parts is not None else None


def holds_key(text: str) -> bool:
    """Whether ``text`` holds a key anywhere (after "[", ":" or "key=", say), not only as
    the whole of it."""
    return _KEY_IN_TEXT.search(text) is not None


def masked_path(path: str) -> str:
    """``path`` with each key in it, wherever it starts in its segment, given as its id alone
    (``tfk_<id>_…``): what a log or an answer may repeat of a key pasted into a URL."""
    return "/".join(
        _KEY_IN_TEXT.sub(lambda found: f"{KEY_PREFIX}_{found[1]}_…", segment)
        for segment in path.split("/")
    )
