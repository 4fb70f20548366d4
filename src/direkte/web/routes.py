"""Plain HTML pages: the start page for now."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from direkte import __version__
from direkte.auth.deps import public_router

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
