"""Settings a process will not start with."""

from __future__ import annotations


class StartRefused(RuntimeError):
    """The settings cannot work (a missing key, half a key pair): the message says what to
    set. Every ``tifli`` command prints it as one line, where a traceback would bury it."""
