"""Where an error was raised, said without its message: pure, no I/O.

Logs name an error by its type, never its message, which may quote personal data (a value
refused, a row). The type alone left an operator with "error=ExceptionGroup" for a 500 and
nothing to look at; the code locations it passed through are no one's data, and say where.
"""

from __future__ import annotations

import traceback
from pathlib import PurePath

# Our own packages: the frame an operator (or a bug report) needs is the last one in them.
OWN_PACKAGES = frozenset({"intake_api", "alert_engine", "dispatcher", "shared", "services"})
# Where our packages lie side by side, checked out or installed (this module is in shared/).
_PROJECT_ROOT = PurePath(__file__).parent.parent
_MOST_LEAVES = 5  # an exception group of hundreds says its first few types, and how many


def leaf_errors(exc: BaseException) -> list[BaseException]:
    """The errors an exception group holds, nested groups opened (``exc`` itself if it is
    not a group): a task group's failure is an ``ExceptionGroup`` around the real one."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaf_errors(inner)]
    return [exc]


def leaf_names(exc: BaseException) -> str | None:
    """The types inside an exception group, comma-separated (None if ``exc`` is no group)."""
    if not isinstance(exc, BaseExceptionGroup):
        return None
    names = [type(leaf).__name__ for leaf in leaf_errors(exc)]
    shown = ",".join(names[:_MOST_LEAVES])
    return shown if len(names) <= _MOST_LEAVES else f"{shown},+{len(names) - _MOST_LEAVES}"


def raised_at(exc: BaseException) -> dict[str, str]:
    """``at``: the innermost frame of our own code the (first) error passed through, as
    ``package/module.py:line function``; ``raised_in``: the frame that raised it, if that
    is elsewhere (a library, the standard library). Empty if it was never raised."""
    frames = traceback.extract_tb(leaf_errors(exc)[0].__traceback__)
    if not frames:
        return {}
    own = [(f, path) for f in frames if (path := _own_path(f.filename)) is not None]
    fields = {}
    if own:
        frame, path = own[-1]
        fields["at"] = f"{path}:{frame.lineno} {frame.name}"
    if not own or own[-1][0] is not frames[-1]:
        # Outside our packages: its file by its last two parts (a library's package and
        # module, never the host's directories).
        where = "/".join(PurePath(frames[-1].filename).parts[-2:])
        fields["raised_in"] = f"{where}:{frames[-1].lineno} {frames[-1].name}"
    return fields


def _own_path(filename: str) -> str | None:
    """The file's path within the project (``services/cli/run.py``), or None if it lies in
    none of our packages."""
    try:
        relative = PurePath(filename).relative_to(_PROJECT_ROOT)
    except ValueError:
        return None
    return relative.as_posix() if relative.parts[0] in OWN_PACKAGES else None
