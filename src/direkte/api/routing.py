"""What the app's routes are and declare: their operation ids and dependencies."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

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


def fence_routes(app: FastAPI) -> None:
    """Let each router included in the app refuse, by a string test, a path it cannot hold.

    FastAPI (0.165) matches a request against the app's routes in order, and each
    included router against every one of its routes, twice for the router that
    holds it (once to find it, once to run it): about 2 µs a route, so a route
    included late paid for every route before it (about 0.19 ms for the last one
    of a hundred, 0.03 ms for the escalation create). A path can only match a
    route whose literal start (its path up to the first ``{``) it starts with, so
    a router none of whose routes' starts fit answers "no match" at once; any
    other path is matched by FastAPI as before, redirects of a trailing slash
    included (``tests/api/test_routing.py`` checks every route lands where it
    did). Idempotent: a router included after a first call is fenced by the next.
    Routers holding anything but API routes (mounts, websockets) are left as they are.
    """
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None or getattr(route, "direkte_fence", None) is not None:
            continue
        leaves = list(contexts())
        if not leaves or not all(isinstance(c.original_route, APIRoute) for c in leaves):
            continue
        starts = tuple(sorted({c.path_format.split("{", 1)[0] for c in leaves}))
        route.direkte_fence = starts  # type: ignore[attr-defined]
        route.matches = _fenced(route.matches, starts)  # type: ignore[method-assign,assignment]


def _fenced(
    matches: Callable[[Scope], tuple[Match, Scope]], starts: tuple[str, ...]
) -> Callable[[Scope], tuple[Match, Scope]]:
    @functools.wraps(matches)  # ``__wrapped__``: the router's own, for the tests
    def fenced(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root + "/"):  # as Starlette's route path
                path = path[len(root) :]
            if not path.startswith(starts):
                return Match.NONE, {}
        return matches(scope)

    return fenced
