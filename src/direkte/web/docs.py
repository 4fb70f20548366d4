"""The interactive API docs, /docs (Swagger UI) and /redoc (ReDoc), served from the app.

FastAPI's own pages load their scripts from a public CDN with an inline start-up script;
here every script and style is a file of the app (static/vendor/, from npm), so the docs
work on a network without internet and under a CSP that allows no inline script.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from direkte.auth.deps import public_router

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"
_STATIC = Path(__file__).parent / "static"
_VENDOR = "/static/vendor"
FAVICON = f"{_VENDOR}/swagger-ui/favicon-32x32.png"

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = public_router(include_in_schema=False)


@router.get(DOCS_URL, response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over /openapi.json."""
    return templates.TemplateResponse(
        request,
        "swagger.html",
        {
            "title": f"{request.app.title} - Swagger UI",
            "openapi_url": request.app.openapi_url,
            "oauth2_redirect_url": OAUTH2_REDIRECT_URL,
            "favicon_url": FAVICON,
            "css_url": f"{_VENDOR}/swagger-ui/swagger-ui.css",
            "js_url": f"{_VENDOR}/swagger-ui/swagger-ui-bundle.js",
            "init_url": "/static/docs/swagger-init.js",
        },
    )


@router.get(OAUTH2_REDIRECT_URL, response_class=HTMLResponse)
def swagger_ui_oauth2_redirect() -> FileResponse:
    """Where Swagger UI's OAuth2 flows come back to."""
    return FileResponse(_STATIC / "docs" / "oauth2-redirect.html", media_type="text/html")


@router.get(REDOC_URL, response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over /openapi.json."""
    return get_redoc_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{_VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
