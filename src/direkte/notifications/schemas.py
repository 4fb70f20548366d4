"""In-app notifications out; webhooks in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from direkte.fields import LocalTime


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    escalation_id: int | None
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    events: Annotated[list[str], Field(min_length=1, max_length=20)]


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="shown once: keep it to verify signatures")


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    delivery_id: int
    event_id: int
    type: str
    at: datetime
    status: Literal["delivered", "failed", "dead_lettered"]
    response_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    dead_lettered: bool


class DeliveryAttemptPage(BaseModel):
    items: list[DeliveryAttemptOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    attempts: int
    due_at: datetime | None
    delivered_at: datetime | None
    dead_at: datetime | None


class QuietHours(BaseModel):
    """Local times in the manager's center's time zone; both null: none."""

    model_config = ConfigDict(extra="forbid")

    start: LocalTime | None
    end: LocalTime | None
