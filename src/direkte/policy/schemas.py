"""Policy documents in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from direkte.policy.service import Published


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any]
    version: int = Field(ge=0, description="the version you edited (a stale one is refused)")
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PolicyOut(BaseModel):
    version: int
    document: dict[str, Any]
    author: str
    created_at: datetime | None
    note: str | None

    @classmethod
    def of(cls, published: Published) -> PolicyOut:
        return cls(
            version=published.version,
            document=published.document,
            author=published.author,
            created_at=published.created_at,
            note=published.note,
        )


class PolicyVersionPage(BaseModel):
    items: list[PolicyOut]
    next_cursor: str | None
