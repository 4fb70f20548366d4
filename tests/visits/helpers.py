"""Helpers for the visit tests: integration calls, audit look-ups, error parts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from direkte.audit.models import AuditEvent
from tests.factories import visit_body

API_KEY_NAME = "dms"


def put_visit(
    client: TestClient, key: str, external_id: str = "RO-1", **overrides: Any
) -> Response:
    return client.put(
        f"/api/v1/integration/visits/{external_id}",
        json=visit_body(**overrides),
        headers={"X-API-Key": key},
    )


def post_integration(
    client: TestClient, key: str, external_id: str, what: str, body: dict[str, Any]
) -> Response:
    return client.post(
        f"/api/v1/integration/visits/{external_id}/{what}", json=body, headers={"X-API-Key": key}
    )


def line(
    unit_price: str, quantity: str = "1", kind: str = "part", description: str = "Brake pads"
) -> dict[str, str]:
    return {
        "kind": kind,
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
    }


def events(session: Session, action: str, visit_id: int | None = None) -> list[AuditEvent]:
    """The audit events of one action (on one visit), oldest first, read fresh."""
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if visit_id is not None:
        query = query.where(AuditEvent.visit_id == visit_id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def error_code(response: Response) -> str:
    return str(response.json()["error"]["code"])


def error_fields(response: Response) -> list[str]:
    return [str(d["field"]) for d in response.json()["error"]["details"]]
