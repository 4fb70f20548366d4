"""The ASGI application: routers, error handlers and shared state."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from direkte import __version__
from direkte.analytics.routes import ops as figures_router
from direkte.analytics.routes import router as analytics_router
from direkte.api.admission import AdmissionMiddleware
from direkte.api.body import BodyGuardMiddleware
from direkte.api.headers import SecurityHeadersMiddleware
from direkte.auth.deps import current_caller, public
from direkte.auth.limits import make_limits
from direkte.auth.routes import accounts as accounts_router
from direkte.auth.routes import router as auth_router
from direkte.clock import Clock, SystemClock
from direkte.config import Settings, get_settings
from direkte.db import counter_engine, make_engine, make_sessionmaker
from direkte.escalations.routes import moderation as moderation_router
from direkte.escalations.routes import router as escalations_router
from direkte.kit.errors import RequestIdMiddleware, install_error_handlers
from direkte.notifications.routes import router as notifications_router
from direkte.notifications.routes import webhooks as webhooks_router
from direkte.overview.routes import router as overview_router
from direkte.policy.routes import router as policy_router
from direkte.privacy.routes import router as privacy_router
from direkte.visits.routes import customer as visits_router
from direkte.visits.routes import integration as integration_router
from direkte.web.routes import STATIC
from direkte.web.routes import router as web_router

API_PREFIX = "/api/v1"


def operation_id(route: APIRoute) -> str:
    """The operation id ``<tag>_<route function>``, e.g. ``escalations_open_escalation``.

    Stable across path changes, so that clients generated from /openapi.json keep their
    method names (a route function carries its use case's name). Every documented route
    has one tag (tests/api/test_openapi.py); the untagged ones (the pages) are not in
    the document and keep their bare name.
    """
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


def create_app(
    settings: Settings | None = None,
    *,
    sessionmaker_: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the app; tests pass their own sessionmaker and clock."""
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    app = FastAPI(
        title="direkte",
        version=__version__,
        summary="Direct escalation to service managers for vehicle service networks.",
        generate_unique_id_function=operation_id,
    )
    limit_sessions = sessionmaker_
    if sessionmaker_ is None:
        engine = make_engine(settings.resolved_database_url(), pool_size=settings.db_pool_size)
        sessionmaker_ = make_sessionmaker(engine)
        limit_sessions = make_sessionmaker(counter_engine(engine))
    app.state.settings = settings
    app.state.sessionmaker = sessionmaker_
    app.state.clock = clock or SystemClock()
    app.state.limits = make_limits(settings, limit_sessions or sessionmaker_, app.state.clock)
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(AdmissionMiddleware, limit=settings.db_pool_size)
    origins = settings.cors_origin_list()
    if origins:  # off unless configured: browsers then refuse other origins' scripts
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-API-Key"],
            expose_headers=["Retry-After", "X-Request-ID"],
            max_age=600,
        )
    # Before admission: an oversized body never waits for a slot, nor is read.
    app.add_middleware(BodyGuardMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every answer
    routers = (
        auth_router,
        accounts_router,
        integration_router,
        overview_router,
        visits_router,
        escalations_router,
        moderation_router,
        policy_router,
        analytics_router,
        figures_router,
        privacy_router,
        notifications_router,
        webhooks_router,
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _check_every_route_authenticated_or_public(app)
    return app


def _check_every_route_authenticated_or_public(app: FastAPI) -> None:
    """Refuse to start with a route that neither resolves a caller nor is marked public."""
    for route in api_routes(app.routes):
        if route_access(route) is None:
            raise RuntimeError(
                f"{sorted(route.methods or ())} {route.path}: put it on an authenticated_router, "
                "or on a public_router if anyone may call it"
            )


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI keeps an included router's
    routes in the router, behind one entry in the app's list)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def route_access(route: APIRoute) -> str | None:
    """``authenticated`` or ``public`` by the route's dependencies; None if neither."""
    calls = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        calls.add(dependant.call)
        stack.extend(dependant.dependencies)
    if current_caller in calls:
        return "authenticated"
    return "public" if public in calls else None
