"""Answering with a model already validated."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def validated_json(model: BaseModel, status_code: int = 200) -> Response:
    """The model's JSON as the response. The model is already validated; this spares
    FastAPI a second validation of the whole tree against the response model (the
    routes that answer with large trees: visits, the inbox). The route names the model
    in ``response_model`` so that the OpenAPI document still describes it."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
