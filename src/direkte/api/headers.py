"""Security headers on every response (API.md, issue 15 §5), and CORS only when configured.

A plain ASGI middleware with the header lines built once: it adds a list to each
response start and nothing else.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The app's own pages load only their own scripts, styles and images: no inline
# script, no other hosts, no frames, no plugins, forms post only to the app.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The interactive docs (/docs, /redoc; direkte.web.docs) load their scripts from the app
# too and start from a script file; Swagger UI and ReDoc set styles at run time (ReDoc's
# styled-components writes <style> elements) and ReDoc searches in a blob: worker, so
# only styles may be inline there.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _lines(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


class SecurityHeadersMiddleware:
    """Add the security headers; HSTS only to requests that came over https.

    ``scope["scheme"]`` is https when the server terminates TLS or, behind a proxy,
    when uvicorn's proxy headers say so (``X-Forwarded-Proto``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._strict = _lines(STRICT_CSP)
        self._docs = _lines(DOCS_CSP)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lines = self._docs if scope["path"] in DOCS_PATHS else self._strict
        if scope.get("scheme") == "https":
            lines = [*lines, HSTS]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *lines]
            await send(message)

        await self.app(scope, receive, send_with_headers)
