"""What every request body must be: at most ``max_bytes``, and free of NUL characters.

A plain ASGI middleware around ``receive``: a declared ``Content-Length`` over
the limit is answered ``413 payload_too_large`` before the app runs; a body
without one is counted as it arrives and refused at the first chunk past the
limit, so no body is ever read whole. PostgreSQL cannot store a NUL character
in text (SQLite can), so a NUL anywhere in the query string, the path or the
body (raw, ``\\u0000`` in JSON, ``%00`` in a form) is ``422 validation_error``
on both databases, before any field reaches a query.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from direkte.kit.errors import error_body

_NUL_MESSAGE = "text may not contain NUL characters"
# Longest marker less one: kept from one chunk to search across chunk boundaries.
_TAIL = len(b"\\u0000") - 1


def _nul_markers(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, ...]:
    content_type = next((v for k, v in headers if k == b"content-type"), b"").lower()
    if b"json" in content_type:
        return (b"\x00", b"\\u0000")
    if b"x-www-form-urlencoded" in content_type:
        return (b"\x00", b"%00")
    if b"multipart/" in content_type:
        return ()  # files may hold any byte; no route takes one today
    return (b"\x00",)


class BodyGuardMiddleware:
    """Refuse oversized bodies (413) and NUL characters (422) before the app reads them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope["query_string"] or "\x00" in scope["path"]:
            await _answer(scope, receive, send, 422, "validation_error", _NUL_MESSAGE)
            return
        headers = scope["headers"]
        declared = next((v for k, v in headers if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _answer(scope, receive, send, 413, "payload_too_large", self._too_large())
            return
        markers = _nul_markers(headers)
        seen = 0
        tail = b""

        async def guarded() -> Message:
            nonlocal seen, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                seen += len(chunk)
                if seen > self.max_bytes:
                    raise HTTPException(413, self._too_large())
                window = tail + chunk
                if any(marker in window for marker in markers):
                    raise HTTPException(422, _NUL_MESSAGE)
                tail = window[-_TAIL:]
            return message

        await self.app(scope, guarded, send)

    def _too_large(self) -> str:
        return f"the request body is over {self.max_bytes} bytes"


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, msg: str
) -> None:
    response = JSONResponse(error_body(code, msg), status_code=status)
    await response(scope, receive, send)
