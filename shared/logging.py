"""One logging setup for every process: key=value lines locally, JSON lines in production.

Log records carry ids and types, never personal data: messages and ``extra`` fields are
written by our code with that rule; request bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from shared.raised_at import raised_at

# Record attributes that are not ours to print ("color_message" is uvicorn's ANSI twin).
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "collapse",  # a request to CollapseRepeats, not a field
}


class _Formatter(logging.Formatter):
    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self._as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[1] is not None:
            # The type and where it was raised, never the message or the traceback's text:
            # either may quote personal data.
            fields["error_type"] = type(record.exc_info[1]).__name__
            fields.update(raised_at(record.exc_info[1]))
        if self._as_json:
            return json.dumps(fields, default=str, ensure_ascii=False)
        return " ".join(f"{k}={_logfmt(v)}" for k, v in fields.items())


def _logfmt(value: Any) -> str:
    """A value as logfmt writes it: bare if it is one plain word, else quoted with escapes.
    A client's text (a request path) must never start a line of its own, nor end this one:
    a newline in it would let anyone forge a log entry."""
    text = str(value)
    if text and all(c.isprintable() and not c.isspace() and c not in '"=\\' for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


# Client libraries that log every failed reconnect: during a broker or database outage they
# would write thousands of identical lines a minute.
CHATTY_CLIENTS = ("aiokafka", "asyncpg")
# The top-level loggers whose DEBUG lines are written: this project's, which carry ids, never
# personal data.
OWN_LOGGERS = frozenset({"intake_api", "alert_engine", "dispatcher", "shared", "services", "tifli"})


def _own_debug_only(record: logging.LogRecord) -> bool:
    """Libraries log whatever passes through them at DEBUG (the XML signer writes the whole
    CAP document it canonicalises: the child's name, description, photos), so their DEBUG
    lines are dropped whatever the level asked for."""
    return record.levelno >= logging.INFO or record.name.split(".", 1)[0] in OWN_LOGGERS


class CollapseRepeats(logging.Filter):
    """Lets the first of a run of identical warnings through, then one per interval carrying
    how many were held back (``repeated``). Identical: same logger, level and message
    template — what a client library logs on every failed reconnect. Applies to the given
    loggers, and to our own records logged with ``extra={"collapse": True}``."""

    def __init__(
        self,
        loggers: tuple[str, ...],
        interval_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._prefixes = loggers
        self._interval_s = interval_s
        self._clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        if not (record.name.startswith(self._prefixes) or getattr(record, "collapse", False)):
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        shown_at, held = self._seen.get(key, (-self._interval_s, 0))
        if now - shown_at < self._interval_s:
            self._seen[key] = (shown_at, held + 1)
            return False
        if held:
            record.repeated = held
        self._seen[key] = (now, 0)
        return True


def configure_logging(level: str, *, as_json: bool, stream: TextIO | None = None) -> None:
    """Sends every log record to ``stream`` (stderr by default), as JSON lines or text, repeats of
    chatty clients collapsed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Formatter(as_json))
    handler.addFilter(CollapseRepeats(CHATTY_CLIENTS))
    handler.addFilter(_own_debug_only)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Database drivers log statements *with their parameters*: personal data. They stay at
    # WARNING whatever the level asked for, as do other chatty libraries.
    for noisy in (
        "aiosqlite",
        "asyncpg",
        "sqlalchemy.engine",
        "aiokafka",
        "alembic",
        "httpx",
        "httpcore",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
