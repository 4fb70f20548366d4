"""The ASGI application: routers, error handlers and shared state."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import greenlet_spawn

from direkte import __version__
from direkte.analytics.routes import ops as figures_router
from direkte.analytics.routes import router as analytics_router
from direkte.api.admission import AdmissionMiddleware
from direkte.api.body import BodyGuardMiddleware
from direkte.api.headers import SecurityHeadersMiddleware
from direkte.api.openapi import install_openapi
from direkte.api.routing import api_routes, fence_routes, operation_id, route_access
from direkte.auth.limits import make_limits
from direkte.auth.routes import accounts as accounts_router
from direkte.auth.routes import router as auth_router
from direkte.clock import Clock, SystemClock
from direkte.config import Settings, get_settings
from direkte.db import counter_engine, make_engine, make_sessionmaker
from direkte.escalations.routes import moderation as moderation_router
from direkte.escalations.routes import router as escalations_router
from direkte.kit.errors import (
    RequestIdMiddleware,
    UnexpectedErrorMiddleware,
    install_error_handlers,
)
from direkte.kit.offload import OffLoopRoute, RunnerMiddleware, runner_for
from direkte.notifications.routes import router as notifications_router
from direkte.notifications.routes import webhooks as webhooks_router
from direkte.overview.routes import router as overview_router
from direkte.policy.routes import router as policy_router
from direkte.privacy.routes import router as privacy_router
from direkte.visits.routes import customer as visits_router
from direkte.visits.routes import integration as integration_router
from direkte.web.docs import router as docs_router
from direkte.web.errors import install_page_errors
from direkte.web.routes import STATIC
from direkte.web.routes import routers as web_routers

API_PREFIX = "/api/v1"


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
    engines: list[Engine] = []
    app = FastAPI(
        lifespan=functools.partial(_disposing, engines),
        title="direkte",
        version=__version__,
        summary="Direct escalation to service managers for vehicle service networks.",
        generate_unique_id_function=operation_id,
        # /docs and /redoc are served by direkte.web.docs from the app's own files.
        docs_url=None,
        redoc_url=None,
    )
    app.router.route_class = OffLoopRoute  # routes added to the app itself, as the routers'
    limit_sessions = sessionmaker_
    if sessionmaker_ is None:
        engine = make_engine(
            settings.resolved_database_url(), pool_size=settings.db_pool_size, on_event_loop=True
        )
        sessionmaker_ = make_sessionmaker(engine)
        counters = counter_engine(engine)
        limit_sessions = make_sessionmaker(counters)
        engines.extend({engine, counters})
    app.state.settings = settings
    app.state.sessionmaker = sessionmaker_
    app.state.clock = clock or SystemClock()
    app.state.limits = make_limits(settings, limit_sessions or sessionmaker_, app.state.clock)
    install_error_handlers(app)
    install_page_errors(app)  # pages under /app get error pages, the API its JSON
    bind = sessionmaker_.kw["bind"]
    app.add_middleware(RunnerMiddleware, runner=runner_for(bind.dialect.name))
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
    # A 500 that keeps the connection, answered by the app's handler (pages or JSON).
    app.add_middleware(UnexpectedErrorMiddleware, handler=app.exception_handlers[Exception])
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
    for router in web_routers:
        app.include_router(router)
    app.include_router(docs_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _check_every_route_authenticated_or_public(app)
    fence_routes(app)
    install_openapi(app)
    return app


@asynccontextmanager
async def _disposing(engines: list[Engine], app: FastAPI) -> AsyncIterator[None]:
    """At shutdown, close the pooled connections of the engines the app made (in a
    greenlet: those of PostgreSQL's engine on the event loop are async) and the limits'
    Redis connections on this loop."""
    yield
    for engine in engines:
        await greenlet_spawn(engine.dispose)
    await app.state.limits.aclose()


def _check_every_route_authenticated_or_public(app: FastAPI) -> None:
    """Refuse to start with a route that neither resolves a caller nor is marked public."""
    for route in api_routes(app.routes):
        if route_access(route) is None:
            raise RuntimeError(
                f"{sorted(route.methods or ())} {route.path}: put it on an authenticated_router, "
                "or on a public_router if anyone may call it"
            )


__all__ = ["api_routes", "create_app", "operation_id", "route_access"]
