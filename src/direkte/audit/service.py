"""Writing audit events; always inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from direkte.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user, an integration key, or the system itself."""

    kind: str
    id: int | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)


def record_event(
    session: Session,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    subject_kind: str,
    subject_id: int | None,
    visit_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event to the session (flushed with the use case's change)."""
    event = AuditEvent(
        occurred_at=at,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        subject_kind=subject_kind,
        subject_id=subject_id,
        visit_id=visit_id,
        data=data or {},
    )
    session.add(event)
    return event
