"""Ops and customers: export and erase a customer's data; the audit trail (API.md "Ops")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import AwareDatetime

from direkte.audit.service import Actor
from direkte.auth.deps import CurrentUser, OpsUser, authenticated_router
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.errors import ERROR_RESPONSES, REFUSED
from direkte.kit.pagination import ListKind, decode_cursor, encode_cursor
from direkte.kit.params import RowId
from direkte.privacy import service
from direkte.privacy.schemas import AuditEventOut, AuditPage, ErasedOut

router = authenticated_router(tags=["privacy"], responses={**ERROR_RESPONSES, **REFUSED})


@router.get("/customers/{customer_id}/export")
def export_customer(
    customer_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Everything stored about a customer, as JSON (ops); audited."""
    document = service.export_customer(session, clock, viewer=user, customer_id=customer_id)
    session.commit()
    return document


@router.get("/me/export")
def export_me(session: SessionDep, clock: ClockDep, user: CurrentUser) -> dict[str, Any]:
    """Everything stored about the caller (a customer), as JSON; audited."""
    document = service.export_customer(session, clock, viewer=user, customer_id=user.id)
    session.commit()
    return document


@router.post("/customers/{customer_id}/erase")
def erase_customer(
    customer_id: RowId, session: SessionDep, clock: ClockDep, user: OpsUser
) -> ErasedOut:
    """Replace a customer's name, e-mail, phone and free texts with placeholders and
    disable their log-in; figures stay the same (ops); audited."""
    erased = service.erase_customer(session, clock, actor=Actor.user(user), customer_id=customer_id)
    session.commit()
    return ErasedOut(customer_id=erased.customer_id, erased_at=erased.erased_at, rows=erased.rows)


@router.get("/audit")
def list_audit(
    session: SessionDep,
    user: CurrentUser,
    actor: Annotated[str | None, Query(max_length=254)] = None,
    subject: Annotated[str | None, Query(max_length=80)] = None,
    date_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    date_to: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPage:
    """Audit events, newest first (ops): who did what and saw what, when."""
    events = service.list_audit(
        session,
        viewer=user,
        actor=actor,
        subject=subject,
        date_from=date_from,
        date_to=date_to,
        before=decode_cursor(cursor, ListKind.audit),
        limit=limit + 1,
    )
    more = len(events) > limit
    events = events[:limit]
    return AuditPage(
        items=[AuditEventOut.model_validate(e, from_attributes=True) for e in events],
        next_cursor=encode_cursor(ListKind.audit, events[-1].id) if more and events else None,
    )
