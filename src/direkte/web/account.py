"""Log-in and log-out pages (``/app/login``, ``/app/logout``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from direkte.auth import service as auth_service
from direkte.auth.deps import LoginLimits, session_token
from direkte.auth.login import log_in
from direkte.errors import RateLimited
from direkte.kit.deps import ClockDep, SessionDep, SettingsDep
from direkte.web.rendering import home_of, render
from direkte.web.routing import public_page_router
from direkte.web.security import clear_session_cookie, ensure_anonymous_cookie, set_session_cookie

router = public_page_router()


def _safe_next(target: str | None) -> str | None:
    """Only a path of this app: never another host (an open redirect)."""
    if target and target.startswith("/app/") and not any(s in target for s in ("\\", "://")):
        return target
    return None


@router.get("/app/login")
def login_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    next: str | None = None,
) -> Response:
    """The log-in form (a browser already logged in goes on to its pages)."""
    token = session_token(request)
    if token is not None:
        try:
            user = auth_service.authenticate_token(
                session, clock, token=token, secret=settings.signing_key
            )
        except auth_service.InvalidToken:
            pass  # logged out, expired or ended: log in again
        else:
            return RedirectResponse(_safe_next(next) or home_of(user), status_code=303)
    ensure_anonymous_cookie(request)
    return render(request, "login.html", {"next": _safe_next(next), "username": ""})


@router.post("/app/login")
def log_in_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    limits: LoginLimits,
    username: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """Log in with the API's log-in use case (and its lock) and set the session cookie."""
    form = {"next": _safe_next(next), "username": username}
    try:
        issued = log_in(
            session, clock, limits=limits, settings=settings, username=username, password=password
        )
    except RateLimited as refusal:
        return render(
            request,
            "login.html",
            {**form, "error": "locked", "retry_after": refusal.retry_after},
            status_code=429,
            headers={"Retry-After": str(refusal.retry_after)},
        )
    except auth_service.InvalidCredentials:
        return render(request, "login.html", {**form, "error": "invalid"}, status_code=401)
    user = auth_service.authenticate_token(
        session, clock, token=issued.access_token, secret=settings.signing_key
    )
    response = RedirectResponse(form["next"] or home_of(user), status_code=303)
    set_session_cookie(request, response, issued.access_token, issued.expires_in)
    return response


@router.get("/app/logout")
def logout_page(request: Request) -> Response:
    """Ask before logging out (a link cannot log anyone out: it takes a form)."""
    if session_token(request) is None:
        return RedirectResponse("/app/login", status_code=303)
    return render(request, "logout.html")


@router.post("/app/logout")
def log_out_page(
    request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """End the session: its token is refused from now on, in every process."""
    token = session_token(request)
    if token is not None:
        try:
            auth_service.revoke_token(session, clock, token=token, secret=settings.signing_key)
            session.commit()
        except auth_service.InvalidToken:
            pass  # expired or forged: there is nothing left to end
    response = RedirectResponse("/app/login", status_code=303)
    clear_session_cookie(request, response)
    return response
