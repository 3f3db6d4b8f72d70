"""Settings a process will not start with."""

from __future__ import annotations


class StartRefused(RuntimeError):
    """The settings cannot work (a missing key, half a key pair): the message says what to
    set. Every ``tifli`` command prints it as one line, where a traceback would bury it."""


def settings_errors(invalid: ValueError) -> list[str]:
    """What is wrong with the settings, a line each, named as they are set (``TIFLI_OPS_PORT``,
    not pydantic's field), without the value given: it may be a key."""
    import re

    from pydantic import ValidationError

    if isinstance(invalid, ValidationError):
        return [
            f"{_variable(str(error['loc'][0]) if error['loc'] else '')}: "
            + error["msg"].removeprefix("Value error, ")
            for error in invalid.errors()
        ]
    # pydantic-settings' own (a value it could not parse as JSON) names the field in quotes.
    field = re.search(r'field "(\w+)"', str(invalid))
    if field:
        return [f"{_variable(field.group(1))}: not a valid value (JSON where a list is meant)"]
    return [str(invalid)]


def _variable(field: str) -> str:
    if not field:
        return "settings"
    if field.isupper():  # read under an alias of its own: the alias is the variable
        field = field.removeprefix("TIFLI_").lower()
    variable = f"TIFLI_{field.upper()}"
    # The two read without the prefix too (shared.settings).
    if field in ("database_url", "kafka_bootstrap_servers"):
        return f"{variable} (or {field.upper()})"
    return variable
