"""A query parameter an operation does not take is a 422 naming it, as an unknown field in a
body is: a typo in a filter (``?stauts=submitted``) otherwise answered the whole, unfiltered
list, which a police system would take for the filtered one."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shared.problems import field_problem

# A name echoed in the error only if it reads as one (not a bidi override, nor 5,000 bytes).
_SHOWN_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")


async def known_query_only(request: Request) -> None:
    """For ``Depends``: refuse a query parameter the matched operation does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if not request.query_params:
        return
    # Walked per request (a few dozen fields): routes are not hashable, and a cache by id
    # could outlive an app and answer for another route.
    taken = _declared(route.dependant)
    for name in request.query_params:
        if name not in taken:
            field = f"query.{name}" if _SHOWN_NAME.fullmatch(name) else "query"
            raise field_problem(field, "this operation takes no such query parameter")


def _declared(dependant: Dependant) -> set[str]:
    """The query parameters an endpoint and its dependencies declare (by alias)."""
    names = {field.alias for field in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _declared(inner)
    return names
