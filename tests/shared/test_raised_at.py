"""An error is logged by its type and where it was raised, never by its message: a 500 that
said only "error=ExceptionGroup" left an operator nothing to look at."""

from __future__ import annotations

import inspect
import io
import json
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfoNotFoundError

import httpx
from fastapi import FastAPI

from shared import paging, time_zones
from shared.problems import install_problem_handlers
from shared.raised_at import leaf_names, raised_at
from shared.transient_errors import describe

# What a refused value could quote: it must reach no log field.
PERSONAL = "Amina Benali, 7 ans"


def _line_of(function: object, text: str) -> int:
    """The line of ``function``'s source holding ``text``."""
    lines, first = inspect.getsourcelines(function)  # type: ignore[arg-type]
    [offset] = [i for i, line in enumerate(lines) if text in line]
    return first + offset


def _raised_in_our_code() -> ZoneInfoNotFoundError:
    try:
        time_zones.time_zone(PERSONAL)  # its message quotes the name asked for
    except ZoneInfoNotFoundError as exc:
        return exc
    raise AssertionError(f"a time zone called {PERSONAL!r}")


def _raised_in_a_library_from_our_code() -> TypeError:
    try:
        paging._encoded(datetime.now(UTC), {PERSONAL})  # type: ignore[arg-type]
    except TypeError as exc:
        return exc
    raise AssertionError("a set was encoded")


def test_an_error_raised_in_our_code_is_placed_there() -> None:
    line = _line_of(time_zones.time_zone, "raise ZoneInfoNotFoundError")
    assert raised_at(_raised_in_our_code()) == {"at": f"shared/time_zones.py:{line} time_zone"}


def test_an_error_a_library_raised_says_our_last_frame_and_the_library_s() -> None:
    where = raised_at(_raised_in_a_library_from_our_code())
    assert where["at"] == f"shared/paging.py:{_line_of(paging._encoded, 'json.dumps')} _encoded"
    # The library's frame by its package and module only: no directory of the host.
    assert where["raised_in"].startswith("json/encoder.py:")
    assert where["raised_in"].endswith(" default")


def test_an_error_never_raised_has_no_place() -> None:
    assert raised_at(ValueError("built, not raised")) == {}


def test_an_exception_group_names_what_it_holds_and_where_the_first_was_raised() -> None:
    inner = _raised_in_our_code()
    group = ExceptionGroup("task group", [inner, ExceptionGroup("nested", [KeyError("k")])])
    fields = describe(group)
    assert fields["error"] == "ExceptionGroup"
    assert fields["errors"] == "ZoneInfoNotFoundError,KeyError"
    assert fields["at"] == raised_at(inner)["at"]
    many = ExceptionGroup("burst", [ValueError(str(n)) for n in range(8)])
    assert leaf_names(many) == "ValueError,ValueError,ValueError,ValueError,ValueError,+3"
    assert leaf_names(inner) is None


def test_no_field_quotes_the_message() -> None:
    error = _raised_in_our_code()
    assert PERSONAL in str(error)  # the message does quote it…
    assert not any("Amina" in value for value in describe(error).values())  # …no field


async def test_a_500_is_logged_with_where_it_was_raised(log_output: io.StringIO) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        # As a task group fails: the real error inside an ExceptionGroup.
        raise ExceptionGroup("unhandled errors in a TaskGroup", [_raised_in_our_code()])

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    [line] = [
        json.loads(text)
        for text in log_output.getvalue().splitlines()
        if json.loads(text)["message"] == "unhandled error"
    ]
    assert line["errors"] == "ZoneInfoNotFoundError"
    assert line["at"].startswith("shared/time_zones.py:")
    assert "Amina" not in log_output.getvalue()


def test_a_record_logged_with_its_exception_says_where(log_output: io.StringIO) -> None:
    for error in (_raised_in_a_library_from_our_code(), _raised_in_our_code()):
        logging.getLogger("shared.test").warning("not done", exc_info=error)
    library, ours = [json.loads(text) for text in log_output.getvalue().splitlines()]
    assert library["error_type"] == "TypeError" and library["raised_in"].startswith("json/")
    assert ours["error_type"] == "ZoneInfoNotFoundError" and "raised_in" not in ours
    assert ours["at"] == raised_at(_raised_in_our_code())["at"]
    assert "Amina" not in log_output.getvalue()
