"""What the app's routes are and declare: their operation ids and dependencies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from direkte.auth.deps import current_caller, current_session_user, public


def operation_id(route: APIRoute) -> str:
    """The operation id ``<tag>_<route function>``, e.g. ``escalations_open_escalation``.

    Stable across path changes, so that clients generated from /openapi.json keep their
    method names (a route function carries its use case's name). Every documented route
    has one tag (tests/api/test_openapi.py); the untagged ones (the pages) are not in
    the document and keep their bare name.
    """
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI keeps an included router's
    routes in the router, behind one entry in the app's list)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def dependants(route: APIRoute) -> Iterator[Dependant]:
    """The route's own dependant and every dependency's, its routers' and nested ones."""
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        yield dependant
        stack.extend(dependant.dependencies)


def dependency_calls(route: APIRoute) -> set[Callable[..., Any]]:
    """Every function the route runs: its own, its routers' dependencies, nested ones."""
    return {d.call for d in dependants(route) if d.call is not None}


def parameter_names(route: APIRoute, where: str) -> set[str]:
    """The names (aliases) of the route's ``path``, ``query`` or ``header`` parameters,
    its dependencies' included."""
    return {f.alias for d in dependants(route) for f in getattr(d, f"{where}_params")}


def route_access(route: APIRoute) -> str | None:
    """``authenticated`` or ``public`` by the route's dependencies; None if neither."""
    calls = dependency_calls(route)
    if current_caller in calls or current_session_user in calls:
        return "authenticated"
    return "public" if public in calls else None
