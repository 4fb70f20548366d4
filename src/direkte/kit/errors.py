"""One place that turns every failure into the contract's error format."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from direkte.errors import DomainError, RateLimited

log = logging.getLogger("direkte.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id") or "-")


class RequestIdMiddleware:
    """Give each request an id (or keep the caller's X-Request-ID) and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _field(loc: tuple[Any, ...]) -> str:
    parts = (
        list(loc[1:])
        if loc and loc[0] in ("body", "query", "path", "header", "cookie")
        else list(loc)
    )
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or (str(loc[0]) if loc else "(request)")


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        details.append(
            {
                "field": _field(loc),
                "location": str(loc[0]) if loc else "body",
                "message": str(error.get("msg", "invalid")).removeprefix("Value error, "),
                "type": error.get("type"),
            }
        )
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return JSONResponse(error_body("validation_error", message, details), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return JSONResponse(
        error_body(code, str(exc.detail)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def log_unexpected(method: str, path: str, request_id: str, exc: Exception) -> None:
    """Log an unhandled error with its request id, and nothing personal: a database
    error's own message quotes the row or key it refused (PostgreSQL's ``DETAIL``), so
    for those only the error's kinds, its SQLSTATE and the statement are logged."""
    if isinstance(exc, DBAPIError):
        original = exc.orig
        log.error(
            "unhandled database error on %s %s [request_id=%s]: %s (%s, sqlstate %s) in: %s",
            method,
            path,
            request_id,
            type(exc).__name__,
            type(original).__name__,
            getattr(original, "sqlstate", None),
            exc.statement,
        )
        return
    log.error("unhandled error on %s %s [request_id=%s]", method, path, request_id, exc_info=exc)


def _internal_error(request_id: str) -> JSONResponse:
    return JSONResponse(
        error_body(
            "internal_error",
            "something went wrong on our side; quote the request id if you contact support",
            {"request_id": request_id},
        ),
        status_code=500,
        headers={"X-Request-ID": request_id},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = request_id_of(request)
    log_unexpected(request.method, request.url.path, request_id, exc)
    return _internal_error(request_id)


class UnexpectedErrorMiddleware:
    """Answer an unexpected error ``500 internal_error``, and end the request there.

    Starlette's own last resort (``ServerErrorMiddleware``, where an ``Exception``
    handler goes) answers and then raises the error again, for the server to log:
    uvicorn then logs its whole traceback (a database error's message may quote a
    row) and closes the connection, so a client's next keep-alive request on it
    fails. Here the error is logged once, without personal data
    (``log_unexpected``), answered, and not raised: the connection serves the next
    request. The request's session was closed (rolled back) by its dependency
    before the error arrives here, so its database connection is back in the pool,
    clean. Starlette's handler stays behind this for errors in the outer middleware.
    """

    def __init__(
        self,
        app: ASGIApp,
        handler: Callable[[Request, Any], Response | Awaitable[Response]] = _unexpected,
    ) -> None:
        # ``handler``: the app's own handler for ``Exception`` (it logs and answers: the
        # web app's paths get an error page), by default the API's JSON answer.
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:  # too late to answer: only log it
                request_id = str(scope.get("state", {}).get("request_id") or "-")
                log_unexpected(scope.get("method", "-"), scope.get("path", "-"), request_id, exc)
                return
            answer = self.handler(Request(scope, receive), exc)
            if inspect.isawaitable(answer):
                answer = await answer
            await answer(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


class ErrorDetail(BaseModel):
    code: str = Field(description="What went wrong, in snake_case (`validation_error`, …)")
    message: str = Field(description="The same in words, for people")
    details: Any = Field(
        description="More about it: for bad input a list naming each field, else an object or null"
    )


class ErrorOut(BaseModel):
    """Every error answer's body (API.md, "Errors")."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not authenticated"},
    404: {"description": "Not found, or not visible to the caller"},
    422: {"description": "Invalid input; details name each bad field"},
}
REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not allowed to the caller's role, or not theirs to act on"}
}
