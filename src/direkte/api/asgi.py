"""The app as an import string for uvicorn workers: ``direkte.api.asgi:app``."""

from direkte.api.app import create_app
from direkte.api.serving import settle_heap
from direkte.guardrails.content_facts import warm_up

app = create_app()
warm_up()
settle_heap()  # last: everything alive now lives as long as the worker
