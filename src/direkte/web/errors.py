"""Error pages for the web app: the same failures as the API's, shown as a page in the
user's language with the request id, instead of the JSON envelope.

``install_page_errors`` wraps each JSON handler ``kit.errors`` installed: a request
under ``/app`` gets a page, any other the handler's JSON as before. No session: the
user is the page's, when its session was read before the failure.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from direkte.errors import DomainError, NotAuthenticated, RateLimited
from direkte.kit.errors import log_unexpected, request_id_of
from direkte.web.rendering import render

log = logging.getLogger("direkte.web")

APP_PREFIX = "/app"
Handler = Callable[[Request, Exception], Awaitable[Response]]
AnyHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == APP_PREFIX or path.startswith(APP_PREFIX + "/")


def login_redirect(request: Request) -> Response:
    """Send a browser without a live session to the log-in, back here afterwards."""
    back = request.url.path if request.method == "GET" else "/app/visits"
    target = f"/app/login?next={quote(back, safe='/')}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(
    request: Request, status: int, code: str, retry_after: int | None = None
) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if status >= 500:  # answered outside the middleware that echoes the id
        headers["X-Request-ID"] = request_id_of(request)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "retry_after": retry_after},
        user=getattr(request.state, "page_user", None),
        status_code=status,
        headers=headers,
    )


def _page_handler(json_handler: AnyHandler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not is_page(request):
            answer = json_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        if isinstance(exc, NotAuthenticated):
            return login_redirect(request)
        if isinstance(exc, RateLimited):
            return error_page(request, 429, exc.code, exc.retry_after)
        if isinstance(exc, DomainError):
            return error_page(request, exc.status, exc.code)
        if isinstance(exc, RequestValidationError):
            return error_page(request, 422, "validation_error")
        if isinstance(exc, StarletteHTTPException):
            return error_page(request, exc.status_code, "http_error")
        log_unexpected(request.method, request.url.path, request_id_of(request), exc)
        try:
            return error_page(request, 500, "internal_error")
        except Exception:  # the page itself failed: the plain answer still names the id
            log.exception("the error page failed [request_id=%s]", request_id_of(request))
            answer = json_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer

    return handle


def install_page_errors(app: FastAPI) -> None:
    """Give the web app's paths error pages; call after ``kit.errors.install_error_handlers``."""
    for kind in (DomainError, RequestValidationError, StarletteHTTPException, Exception):
        json_handler = app.exception_handlers[kind]
        app.add_exception_handler(kind, _page_handler(json_handler))
