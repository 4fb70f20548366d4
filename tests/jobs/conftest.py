"""The jobs run in sessions of their own and commit for real: each test gets a fresh
database with the factories' network (``committed``, shared with the escalation tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from direkte.clock import FixedClock
from direkte.escalations import service as escalations
from direkte.escalations.models import Escalation, Outcome
from direkte.network.models import User
from direkte.notifications.models import OutboxEvent
from direkte.notifications.service import emit
from tests.escalations.conftest import Committed, committed

__all__ = ["Committed", "committed", "emit_event", "resolve"]


def resolve(db: Committed, case_id: int, at: datetime) -> None:
    """Kari (the case's tier-1 assignee) resolves it as upheld at ``at``."""
    with db.factory() as session:
        kari = session.scalars(sa.select(User).where(User.email == "kari@example.no")).one()
        case = session.get_one(Escalation, case_id)
        escalations.resolve_escalation(
            session,
            FixedClock(at),
            viewer=kari,
            escalation_id=case_id,
            outcome=Outcome.upheld,
            amount_delta="0",
            note="The pads were worn down; the charge stands.",
            version=case.version,
        )
        session.commit()


def emit_event(db: Committed, recipients: list[int], at: datetime, **payload: Any) -> int:
    """Commit a test outbox event; returns its id."""
    with db.factory() as session:
        emit(
            session,
            at=at,
            topic="test.event",
            aggregate_kind="escalation",
            aggregate_id=0,
            recipients=list(recipients),
            payload=payload,
        )
        session.commit()
        return int(session.scalar(sa.select(sa.func.max(OutboxEvent.id))) or 0)
