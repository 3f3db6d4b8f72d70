"""A query parameter an operation does not take is a 422 naming it, as an unknown field in a
body is: a typo in a filter (``?stauts=submitted``) otherwise answered the whole, unfiltered
list, which a police system would take for the filtered one. A parameter given twice is
refused too: only one of its values would count."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shared.problems import echoable, field_problem

# Each operation's query parameters, by its unique id: the same code declares the same ones
# in every app, and routes themselves are not hashable. Filled at each operation's first
# request with a query, not walked again on every one.
_TAKEN: dict[str, frozenset[str]] = {}


async def known_query_only(request: Request) -> None:
    """For ``Depends``: refuse a query parameter the matched operation does not declare."""
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute):
        return
    taken = _TAKEN.get(route.unique_id)
    if taken is None:
        taken = _TAKEN.setdefault(route.unique_id, frozenset(_declared(route.dependant)))
    given: set[str] = set()
    for name, _ in request.query_params.multi_items():
        field = f"query.{name}" if echoable(name) else "query"
        if name not in taken:
            raise field_problem(field, "this operation takes no such query parameter")
        if name in given:
            # Every parameter takes one value: the last one given would be used, silently
            # (``?status=submitted&status=approved`` answered the approved cases only).
            raise field_problem(field, "given more than once: this parameter takes one value")
        given.add(name)


def _declared(dependant: Dependant) -> set[str]:
    """The query parameters an endpoint and its dependencies declare (by alias)."""
    names = {field.alias for field in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _declared(inner)
    return names
