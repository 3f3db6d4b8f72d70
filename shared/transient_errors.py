"""One answer to "will this error pass if we wait?", for consumers, loops and the API alike.

Transient errors are failures of the infrastructure, not of the work: the database restarting,
in crash recovery, out of connections, a serialisation conflict, a dropped connection, a
broker that is not there. Waiting them out is right; dead-lettering an event because of one
would silently drop an alert, and answering a police system 500 would read as a bug.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.raised_at import leaf_names, raised_at

# SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) that say "later".
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53")  # connection exception; insufficient resources
_TRANSIENT_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: starting up or in crash recovery
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
    }
)


def sqlstate_of(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE carried by ``exc`` or the errors behind it, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        if isinstance(current, DBAPIError) and current.orig is not None:
            current = current.orig
        else:
            current = current.__cause__ or current.__context__
    return None


def is_transient_sqlstate(state: str) -> bool:
    """Whether a PostgreSQL SQLSTATE is one that a retry may well get past (serialization failures,
    deadlocks, lost connections, a server stopping or short of resources)."""
    return state in _TRANSIENT_SQLSTATES or state.startswith(_TRANSIENT_SQLSTATE_CLASSES)


# SQLite reports a schema that is not the code's (a table or column missing: an upgrade not
# run) as an OperationalError, the class its "database is locked" has too. Waiting never
# fixes it (PostgreSQL's own SQLSTATE class 42 says so there).
_SQLITE_SCHEMA_ERRORS = ("no such table", "no such column", "has no column named")


def is_schema_mismatch(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying the schema is not the one the code expects."""
    cause = exc.orig if isinstance(exc, DBAPIError) else None
    text = str(cause) if cause is not None else ""
    return any(marker in text for marker in _SQLITE_SCHEMA_ERRORS)


def is_transient(exc: BaseException) -> bool:
    """True if retrying the same work later may well succeed."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = sqlstate_of(exc)
    if state is not None:
        return is_transient_sqlstate(state)
    if is_schema_mismatch(exc):
        return False
    # No SQLSTATE: the connection itself failed (refused, reset, timed out), SQLite's
    # "database is locked" (an OperationalError), or every pooled connection stayed busy for
    # the pool's whole time-out (a burst: "busy, retry shortly", not a bug) — all pass with time.
    return isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError | PoolTimeout)


def describe(exc: BaseException) -> dict[str, str]:
    """Log fields naming an error without its message (which may quote personal data): its
    type (and those an exception group holds), and where it was raised (``raised_at``)."""
    fields = {"error": type(exc).__name__}
    if (leaves := leaf_names(exc)) is not None:
        fields["errors"] = leaves
    cause = exc.orig if isinstance(exc, DBAPIError) else exc.__cause__
    if cause is not None:
        fields["cause"] = type(cause).__name__
    if (state := sqlstate_of(exc)) is not None:
        fields["sqlstate"] = state
    if is_schema_mismatch(exc):  # SQLite's own words, never data: say what to do
        fields["reason"] = "the database schema is not this version's: run 'tifli db upgrade'"
    return fields | raised_at(exc)
