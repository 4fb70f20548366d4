"""The routers' fences (``fence_routes``): every path lands on the route it did without them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from direkte.api.app import create_app
from direkte.api.routing import fence_routes
from direkte.config import Settings


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=Path(tmp_path_factory.mktemp("routing"))))


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _first(app: FastAPI, method: str, path: str, *, fenced: bool) -> tuple[int, Match]:
    """The index of the app's first route that matches fully (else partly), as FastAPI
    picks it, with the fences or with the routers' own ``matches``."""
    partial = None
    for index, route in enumerate(app.router.routes):
        matches = route.matches
        if not fenced and getattr(route, "direkte_fence", None) is not None:
            matches = matches.__wrapped__  # type: ignore[attr-defined]
        match, _ = matches(_scope(method, path))
        if match == Match.FULL:
            return index, match
        if match == Match.PARTIAL and partial is None:
            partial = index
    return (partial, Match.PARTIAL) if partial is not None else (-1, Match.NONE)


def _paths(app: FastAPI) -> list[tuple[str, str]]:
    """A concrete path for every API route, and its variants that must not move either:
    another method, a trailing slash, a path one segment short or long."""
    out = []
    for route in app.router.routes:
        for context in getattr(route, "effective_route_contexts", list)():
            path = re.sub(r"\{[^}]+\}", "x1", context.path_format)
            for method in sorted(context.methods or ()):
                out += [
                    (method, path),
                    ("DELETE" if method != "DELETE" else "GET", path),
                    (method, path + "/"),
                    (method, path.rsplit("/", 1)[0] or "/"),
                    (method, path + "/more"),
                ]
    return out


def test_every_router_of_the_app_is_fenced(app: FastAPI) -> None:
    included = [r for r in app.router.routes if hasattr(r, "effective_route_contexts")]
    assert included
    assert all(r.direkte_fence for r in included)  # type: ignore[attr-defined]


def test_every_path_lands_where_it_did_without_the_fences(app: FastAPI) -> None:
    paths = [*_paths(app), ("GET", "/nowhere"), ("GET", "/api/v1/"), ("GET", "/static/x")]
    assert len(paths) > 400
    moved = [
        (method, path)
        for method, path in paths
        if _first(app, method, path, fenced=True) != _first(app, method, path, fenced=False)
    ]
    assert moved == []


def test_fencing_twice_changes_nothing(app: FastAPI) -> None:
    before = [r.matches for r in app.router.routes]
    fence_routes(app)
    assert [r.matches for r in app.router.routes] == before


def test_through_http_a_route_a_slash_redirect_and_a_miss(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/me/visits").json()["error"]["code"] == "not_authenticated"
    redirect = client.get("/api/v1/me/visits/", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"].endswith("/api/v1/me/visits")
    assert client.get("/api/v1/nowhere").status_code == 404
