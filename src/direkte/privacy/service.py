"""Everything stored about a customer, exported or erased, and the audit trail read.

The export walks every table that names the customer or one of their visits and
writes each row whole (every column but the password hash), so a column added
later is exported without a change here. Erasure replaces who the customer is
and what they wrote (name, e-mail, phone, free texts) with placeholders and
disables their log-in; every row stays, with its status and times, so the
figures (§7) are the same before and after.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.audit.models import AuditEvent
from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.errors import NotFound, RuleViolation
from direkte.escalations.models import (
    Escalation,
    EscalationEvent,
    EscalationMessage,
    EscalationRequest,
)
from direkte.network.models import Role, User
from direkte.network.passwords import hash_password
from direkte.notifications.models import Notification
from direkte.visits.models import (
    Diagnosis,
    Estimate,
    EstimateLine,
    Vehicle,
    Visit,
    VisitStatusChange,
    WarrantyDecision,
)

ERASED_TEXT = "[erased]"
ERASED_NAME = "Erased customer"


class CustomerNotFound(NotFound):
    code = "customer_not_found"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _rows(session: Session, model: Any, where: Any, *, skip: frozenset[str] = frozenset()) -> Any:
    table: sa.Table = model.__table__
    columns = [c for c in table.c if c.name not in skip]
    query = sa.select(*columns).where(where).order_by(*table.primary_key.columns)
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in session.execute(query)]


def _customer(session: Session, customer_id: int) -> User:
    customer = session.get(User, customer_id)
    if customer is None or customer.role != Role.customer:
        raise CustomerNotFound("customer not found")
    return customer


def _exported(customer_id: int) -> list[tuple[str, Any, Any]]:
    """Each part of the export: its name, its table and which of its rows."""
    visits = sa.select(Visit.id).where(Visit.customer_id == customer_id).scalar_subquery()
    cases = sa.select(Escalation.id).where(Escalation.customer_id == customer_id).scalar_subquery()
    estimates = sa.select(Estimate.id).where(Estimate.visit_id.in_(visits)).scalar_subquery()
    by_customer = sa.and_(AuditEvent.actor_kind == "user", AuditEvent.actor_id == customer_id)
    return [
        ("customer", User, User.id == customer_id),
        ("vehicles", Vehicle, Vehicle.owner_id == customer_id),
        ("visits", Visit, Visit.customer_id == customer_id),
        ("visit_status_changes", VisitStatusChange, VisitStatusChange.visit_id.in_(visits)),
        ("diagnoses", Diagnosis, Diagnosis.visit_id.in_(visits)),
        ("estimates", Estimate, Estimate.visit_id.in_(visits)),
        ("estimate_lines", EstimateLine, EstimateLine.estimate_id.in_(estimates)),
        ("warranty_decisions", WarrantyDecision, WarrantyDecision.visit_id.in_(visits)),
        ("escalation_requests", EscalationRequest, EscalationRequest.customer_id == customer_id),
        ("escalations", Escalation, Escalation.customer_id == customer_id),
        ("escalation_messages", EscalationMessage, EscalationMessage.escalation_id.in_(cases)),
        ("escalation_events", EscalationEvent, EscalationEvent.escalation_id.in_(cases)),
        ("notifications", Notification, Notification.user_id == customer_id),
        ("audit_events", AuditEvent, sa.or_(by_customer, AuditEvent.visit_id.in_(visits))),
    ]


def export_customer(
    session: Session, clock: Clock, *, viewer: User, customer_id: int
) -> dict[str, Any]:
    """Everything stored about a customer, for ops or the customer themself; audited.

    Raises OpsOnly (staff other than ops), CustomerNotFound (also another customer's).
    """
    if viewer.role == Role.customer and viewer.id != customer_id:
        raise CustomerNotFound("customer not found")
    if viewer.role != Role.customer:
        access.require_ops(viewer)
    return _export(session, clock, actor=Actor.user(viewer), customer_id=customer_id)


def customer_id_by_email(session: Session, email: str) -> int:
    """The id of the customer with this e-mail (the CLI's handle). Raises CustomerNotFound."""
    found = session.scalar(
        sa.select(User.id).where(
            sa.func.lower(User.email) == email.strip().lower(), User.role == Role.customer
        )
    )
    if found is None:
        raise CustomerNotFound(f"no customer {email!r}")
    return int(found)


def export_customer_as(
    session: Session, clock: Clock, *, actor: Actor, customer_id: int
) -> dict[str, Any]:
    """The export for a trusted caller (the operator at the console); audited.

    Raises CustomerNotFound.
    """
    return _export(session, clock, actor=actor, customer_id=customer_id)


def _export(session: Session, clock: Clock, *, actor: Actor, customer_id: int) -> dict[str, Any]:
    customer = _customer(session, customer_id)
    now = clock.now()
    document: dict[str, Any] = {"exported_at": now.isoformat()}
    for name, model, where in _exported(customer.id):
        skip = frozenset({"password_hash"}) if model is User else frozenset()
        document[name] = _rows(session, model, where, skip=skip)
    document["customer"] = document["customer"][0]
    record_event(
        session,
        at=now,
        actor=actor,
        action="customer.exported",
        subject_kind="user",
        subject_id=customer.id,
    )
    return document


@dataclass(frozen=True, slots=True)
class Erased:
    customer_id: int
    erased_at: datetime
    rows: dict[str, int]


def erase_customer(session: Session, clock: Clock, *, actor: Actor, customer_id: int) -> Erased:
    """Replace the customer's identity and free texts with placeholders and disable the
    log-in; keep every row, status and time (figures unchanged). Audited; erasing twice
    changes nothing more. Raises CustomerNotFound."""
    customer = _customer(session, customer_id)
    now = clock.now()
    label = f"erased-{customer.id}"
    old_email = customer.email
    customer.name, customer.email, customer.phone = ERASED_NAME, f"{label}@erased.invalid", None
    customer.password_hash = hash_password(secrets.token_urlsafe(32))
    customer.active = False
    session.flush()
    rows = _erase_texts(session, customer, label, old_email)
    record_event(
        session,
        at=now,
        actor=actor,
        action="customer.erased",
        subject_kind="user",
        subject_id=customer.id,
        data={"rows": rows},
    )
    return Erased(customer.id, now, rows)


def _erase_texts(session: Session, customer: User, label: str, old_email: str) -> dict[str, int]:
    """Every free text of the customer's visits and cases (theirs, and staff's about
    them), and their name wherever it was copied."""
    visits = sa.select(Visit.id).where(Visit.customer_id == customer.id).scalar_subquery()
    cases = sa.select(Escalation.id).where(Escalation.customer_id == customer.id).scalar_subquery()

    def update(model: Any, where: Any, **values: Any) -> int:
        statement = sa.update(model).where(where).values(**values)
        result = session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    def kept_null(column: Any) -> Any:
        return sa.case((column.is_(None), None), else_=sa.literal(ERASED_TEXT))

    by_customer = sa.and_(AuditEvent.actor_kind == "user", AuditEvent.actor_id == customer.id)
    return {
        "visits": update(Visit, Visit.id.in_(visits), concern=ERASED_TEXT),
        "escalations": update(
            Escalation,
            Escalation.id.in_(cases),
            reason=ERASED_TEXT,
            appeal_reason=kept_null(Escalation.appeal_reason),
            rating_comment=kept_null(Escalation.rating_comment),
            outcome_note=kept_null(Escalation.outcome_note),
            rejection_reason=kept_null(Escalation.rejection_reason),
        ),
        "escalation_requests": update(
            EscalationRequest, EscalationRequest.customer_id == customer.id, reason=ERASED_TEXT
        ),
        "escalation_messages": update(
            EscalationMessage, EscalationMessage.escalation_id.in_(cases), body=ERASED_TEXT
        ),
        "message_authors": update(
            EscalationMessage, EscalationMessage.author_id == customer.id, author_name=ERASED_NAME
        ),
        "estimates": update(
            Estimate,
            sa.and_(Estimate.visit_id.in_(visits), Estimate.approved_by == old_email),
            approved_by=label,
        ),
        "escalation_events": update(
            EscalationEvent,
            sa.and_(EscalationEvent.actor_kind == "user", EscalationEvent.actor_id == customer.id),
            actor_label=label,
        ),
        "audit_events": update(
            AuditEvent, sa.or_(by_customer, AuditEvent.actor_label == old_email), actor_label=label
        ),
    }


def list_audit(
    session: Session,
    *,
    viewer: User,
    actor: str | None,
    subject: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Audit events, newest first, for ops: ``actor`` an e-mail/label or a user id,
    ``subject`` a kind (``escalation``) or a kind and id (``escalation:12``).

    Raises OpsOnly, InvalidAuditFilter.
    """
    access.require_ops(viewer)
    query = sa.select(AuditEvent)
    if actor:
        query = query.where(
            AuditEvent.actor_id == int(actor)
            if actor.isascii() and actor.isdigit()
            else AuditEvent.actor_label == actor
        )
    if subject:
        kind, _, subject_id = subject.partition(":")
        query = query.where(AuditEvent.subject_kind == kind)
        if subject_id:
            if not (subject_id.isascii() and subject_id.isdigit()):
                raise InvalidAuditFilter(
                    "subject: a kind, or kind:id", [{"field": "subject", "message": "kind:id"}]
                )
            query = query.where(AuditEvent.subject_id == int(subject_id))
    if date_from is not None:
        query = query.where(AuditEvent.occurred_at >= date_from)
    if date_to is not None:
        query = query.where(AuditEvent.occurred_at < date_to)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


class InvalidAuditFilter(RuleViolation):
    code = "validation_error"
