"""The OpenAPI document with every error answer an operation really gives.

The error answers are not written per route: they follow from what a route
declares, in one place here:

* every operation: ``422`` (a field that fails its schema, or a NUL character
  anywhere, ``api/body.py``);
* a request body: ``413 payload_too_large``, and ``400`` for one that is not UTF-8;
* a caller resolved (``authenticated_router``): ``401`` with ``WWW-Authenticate``,
  and ``429 rate_limited`` with ``Retry-After``; a public route: ``429``;
* ops only (``current_ops``): ``403 ops_only``;
* a path parameter (every one names an object): ``404``;
* a ``cursor``: ``400 invalid_cursor``;
* an ``Idempotency-Key`` header: ``400 invalid_idempotency_key``, ``422
  idempotency_key_reused``, and ``Idempotent-Replayed`` on a replayed answer.

What only the use case knows (a role refused, ``403``; a state or version
conflict, ``409``; a rule, ``422``) is declared on the router or the route with
``responses=`` (``kit.errors.REFUSED``, ``CONFLICT``, …). Every error answer,
declared or derived, gets the one error body's schema (``kit.errors.ErrorOut``).
tests/api/test_contract_fuzz.py checks the document against the real answers
(schemathesis), tests/api/test_access_matrix.py every refusal's status.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from direkte.api.routing import api_routes, dependency_calls, operation_id, parameter_names
from direkte.auth.deps import current_caller, current_ops, public
from direkte.kit.errors import ErrorOut
from direkte.kit.idempotent import IDEMPOTENCY_KEY

DESCRIPTIONS = {
    400: "Bad request (`bad_request`, `invalid_cursor`, `invalid_idempotency_key`): a body "
    "that is not UTF-8 text, a malformed `cursor` or `Idempotency-Key`",
    401: "Not authenticated (`not_authenticated`, `invalid_token`)",
    403: "Not allowed to the caller's role",
    404: "Not found, or not visible to the caller",
    409: "In conflict with the object's state or version",
    413: "Request body over the limit (`payload_too_large`)",
    422: "Invalid input (`validation_error`: `details` name each field), or refused by a rule",
    429: "Too many requests, or log-in locked (`rate_limited`); retry after `Retry-After`",
}
_FASTAPI_DEFAULTS = {"Validation Error", "Additional Response", "Successful Response"}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
}
_REPLAYED: dict[str, Any] = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request "
        "with the same `Idempotency-Key`",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
IDEMPOTENCY_RULES = (
    "Optional. 1 to 200 printable characters, unique per caller for 24 hours. A retry "
    "with the same key and the same request gets the first answer again (with "
    "`Idempotent-Replayed: true`) and changes nothing; the same key with a different "
    "request is `422 idempotency_key_reused`; a malformed key is `400 "
    "invalid_idempotency_key`."
)


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the document with the derived error answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)  # sets app.openapi_schema
            complete(document, api_routes(app.routes))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def error_statuses(route: APIRoute) -> set[int]:
    """The error statuses that follow from the route's declarations."""
    calls = dependency_calls(route)
    statuses = {422}
    if route.body_field is not None:
        statuses |= {400, 413}  # 400: a body that is not text (UTF-8)
    if current_caller in calls:
        statuses |= {401, 429}
    if public in calls:
        statuses.add(429)
    if current_ops in calls:
        statuses.add(403)
    if parameter_names(route, "path"):
        statuses.add(404)
    if "cursor" in parameter_names(route, "query") or _idempotent(route):
        statuses.add(400)
    return statuses


def _idempotent(route: APIRoute) -> bool:
    return IDEMPOTENCY_KEY in parameter_names(route, "header")


def complete(document: dict[str, Any], routes: Any) -> None:
    """Add the derived error answers and the error body to every operation, in place."""
    operations = {
        operation["operationId"]: operation
        for item in document.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for route in routes:
        operation = operations.get(operation_id(route))
        if operation is None:
            continue
        responses = operation.setdefault("responses", {})
        declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
        for status in sorted(declared | error_statuses(route)):
            answer = responses.setdefault(str(status), {})
            if answer.get("description") in (None, "", *_FASTAPI_DEFAULTS):
                answer["description"] = DESCRIPTIONS.get(status, "Error")
            answer["content"] = {"application/json": {"schema": _ERROR_REF}}
            if status in _HEADERS:
                answer["headers"] = {**_HEADERS[status], **answer.get("headers", {})}
        if _idempotent(route):
            _document_idempotency(operation)
        operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorOut"] = error_schema
    _drop_unused(document, ("HTTPValidationError", "ValidationError"))


def _document_idempotency(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_KEY:
            parameter["description"] = IDEMPOTENCY_RULES
            parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 200}
    reused = operation["responses"]["422"]
    reused["description"] += "; the `Idempotency-Key` reused with a different request "
    reused["description"] += "(`idempotency_key_reused`)"
    for status, answer in operation["responses"].items():
        if status.startswith("2"):
            answer["headers"] = {**answer.get("headers", {}), **_REPLAYED}


def _drop_unused(document: dict[str, Any], names: tuple[str, ...]) -> None:
    """Drop FastAPI's own validation-error schemas: no answer refers to them any more."""
    paths = json.dumps(document.get("paths", {}))
    if not any(f"#/components/schemas/{name}" in paths for name in names):
        for name in names:
            document["components"]["schemas"].pop(name, None)
