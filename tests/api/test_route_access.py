"""Routers are authenticated by default; a public endpoint is marked (docs/architecture.md,
"Access")."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI

from direkte.api.app import (
    _check_every_route_authenticated_or_public,
    api_routes,
    create_app,
    route_access,
)
from direkte.auth.deps import authenticated_router, public_router
from direkte.config import Settings


def test_every_route_is_authenticated_but_the_marked_public_ones() -> None:
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    kinds = {(route.path, route_access(route)) for route in api_routes(app.routes)}
    assert {path for path, kind in kinds if kind == "public"} == {
        "/auth/token",
        "/",
        "/healthz",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/app/login",
        "/app/logout",
    }
    assert {kind for _, kind in kinds} == {"authenticated", "public"}
    assert len(kinds) > 30


def test_an_unmarked_route_stops_the_app() -> None:
    app = FastAPI()
    plain = APIRouter()

    @plain.get("/unmarked")
    def unmarked() -> dict[str, str]:
        return {}

    marked, public = authenticated_router(), public_router()

    @marked.get("/marked")
    def fine() -> dict[str, str]:
        return {}

    @public.get("/open")
    def open_() -> dict[str, str]:
        return {}

    for router in (marked, public):
        app.include_router(router, prefix="/api")
    _check_every_route_authenticated_or_public(app)
    app.include_router(plain, prefix="/api")
    with pytest.raises(RuntimeError, match="/unmarked"):
        _check_every_route_authenticated_or_public(app)
