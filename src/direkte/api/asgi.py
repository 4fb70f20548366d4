"""The app as an import string for uvicorn workers: ``direkte.api.asgi:app``."""

from direkte.api.app import create_app

app = create_app()
