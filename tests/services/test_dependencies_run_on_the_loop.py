"""No route's dependency is a plain ``def``: FastAPI would run it in a worker thread, a
hand-off to a thread and back for each one on every request, and what they do (read the app's
parts, build a service on the request's session) never blocks."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from services.api import create_app
from services.components import ALL_ROLES, build_components
from services.testbed.stack import embedded_settings


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_every_dependency_of_every_route_is_a_coroutine_or_generator(tmp_path: Path) -> None:
    app = create_app(build_components(embedded_settings(tmp_path), ALL_ROLES))
    routes = [r for r in iter_route_contexts(app.routes) if getattr(r, "dependant", None)]
    assert len(routes) > 40  # the whole API, not a part of it
    blocking = {
        f"{route.path} → {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in _calls(route.dependant)
        if call is not None
        and not inspect.iscoroutinefunction(call)
        and not inspect.isasyncgenfunction(call)
    }
    assert not blocking, sorted(blocking)
