"""The web session's cookie and the CSRF token every state-changing form carries.

The session cookie holds a bearer token from the same log-in as the API's
(``auth.login.log_in``), so log-out, a password change and disabling the user end
it like any token. A form's CSRF token is an HMAC of that token under the signing
key (before log-in: of a random cookie of the browser's own), sent back in the
``csrf_token`` field or, from htmx, the ``X-CSRF-Token`` header. A POST without a
valid one is refused with 403 before its route runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from direkte.auth.deps import SESSION_COOKIE, session_token
from direkte.config import Settings
from direkte.errors import Forbidden

CSRF_COOKIE = "direkte_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Forbidden):
    code = "csrf_failed"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _mac(request: Request, binding: str) -> str:
    key = _settings(request).signing_key.encode()
    return hmac.new(key, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def _binding(request: Request) -> str | None:
    token = session_token(request)
    if token:
        return "session:" + token
    anonymous = request.cookies.get(CSRF_COOKIE)
    return "anonymous:" + anonymous if anonymous else None


def csrf_token(request: Request) -> str:
    """The token this request's forms carry. Before log-in it is bound to a random
    cookie of the browser's (``ensure_anonymous_cookie`` sets it)."""
    binding = _binding(request)
    if binding is None:
        ensure_anonymous_cookie(request)
        binding = "anonymous:" + request.state.new_csrf_cookie
    return _mac(request, binding)


def ensure_anonymous_cookie(request: Request) -> None:
    """Make sure a log-in form's token can be checked: pick a random cookie value if the
    browser has none (``set_anonymous_cookie`` sends it)."""
    missing = session_token(request) is None and not request.cookies.get(CSRF_COOKIE)
    if missing and getattr(request.state, "new_csrf_cookie", None) is None:
        request.state.new_csrf_cookie = secrets.token_urlsafe(24)


def set_anonymous_cookie(request: Request, response: Response) -> None:
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/app",
        )


async def require_csrf(request: Request) -> None:
    """Refuse a state-changing request without the form's valid CSRF token.

    Raises CsrfRefused (403).
    """
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    binding = _binding(request)
    if not sent or binding is None or not hmac.compare_digest(sent, _mac(request, binding)):
        raise CsrfRefused("the form has expired or did not come from this site; reload it")


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    """Log the browser in: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/app")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
