"""Writing audit events; always inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.audit.models import AuditEvent


class _Person(Protocol):
    """What ``Actor.user`` reads from a signed-in user (``network.models.User``)."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user, an integration key, or the system itself."""

    kind: str
    id: int | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)

    @classmethod
    def user(cls, person: _Person) -> Actor:
        """A signed-in user, labelled by e-mail."""
        return cls("user", person.id, person.email)


def audit_row(
    *,
    at: datetime,
    actor: Actor,
    action: str,
    subject_kind: str,
    subject_id: int | None,
    visit_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit event's values, for ``record_events``."""
    return {
        "occurred_at": at,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "visit_id": visit_id,
        "data": data or {},
    }


def record_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append audit events (``audit_row`` values) in the caller's transaction.

    A Core insert on the session's connection, sent at once: the audit log is
    written by every use case, so it skips the ORM unit of work.
    """
    if rows:
        session.connection().execute(_INSERT, rows)


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
) -> None:
    """Append one audit event in the caller's transaction (see ``record_events``)."""
    row = audit_row(
        at=at,
        actor=actor,
        action=action,
        subject_kind=subject_kind,
        subject_id=subject_id,
        visit_id=visit_id,
        data=data,
    )
    session.connection().execute(_INSERT, row)


_INSERT = sa.insert(AuditEvent)
