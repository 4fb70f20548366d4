"""The routers pages sit on.

- ``page_router()``: a logged-in web session (the cookie) for every route, and the
  CSRF check for every state-changing one. Pages are not in the OpenAPI document.
- ``public_page_router()``: pages anyone may open (log-in, log-out); still CSRF-checked.

A page calls the same use case as its API route (``<domain>.service``) and shows the
API's own output schemas, so a rule or a disclosure is written once; the import
contract "Pages call use cases" in pyproject.toml keeps SQL out of ``direkte.web``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from direkte.auth.deps import SessionUser, public_router, session_router
from direkte.web.security import require_csrf


async def remember_user(request: Request, user: SessionUser) -> None:
    """Keep the page's user for its error page (its language and menu)."""
    request.state.page_user = user


def page_router(**kwargs: Any) -> APIRouter:
    """A router of pages for logged-in users, CSRF-checked."""
    dependencies = [
        Depends(remember_user),
        Depends(require_csrf),
        *kwargs.pop("dependencies", []),
    ]
    return session_router(include_in_schema=False, dependencies=dependencies, **kwargs)


def public_page_router(**kwargs: Any) -> APIRouter:
    """A router of pages anyone may open, CSRF-checked."""
    dependencies = [Depends(require_csrf), *kwargs.pop("dependencies", [])]
    return public_router(include_in_schema=False, dependencies=dependencies, **kwargs)
