"""The web app's routers: the start page, and the pages under /app (docs/architecture.md,
"Web app")."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from direkte import __version__
from direkte.auth.deps import public_router
from direkte.web import account, cases, customer, ops, staff

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Styles and scripts are files (served at /static): the pages' CSP allows no inline ones.
STATIC = Path(__file__).parent / "static"
router = public_router(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def start_page(request: Request) -> HTMLResponse:
    """What direkte is, and where the API docs are."""
    return templates.TemplateResponse(request, "index.html", {"version": __version__})


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}


# Every router of the web app, in the order the app includes them.
routers: tuple[APIRouter, ...] = (
    router,
    account.router,
    customer.router,
    cases.router,
    staff.router,
    ops.router,
)
