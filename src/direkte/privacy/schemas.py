"""The answers of the privacy endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ErasedOut(BaseModel):
    customer_id: int
    erased_at: datetime
    rows: dict[str, int]


class AuditEventOut(BaseModel):
    id: int
    occurred_at: datetime
    actor_kind: str
    actor_id: int | None
    actor_label: str
    action: str
    subject_kind: str
    subject_id: int | None
    visit_id: int | None
    data: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
