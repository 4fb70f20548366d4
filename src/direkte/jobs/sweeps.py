"""Background work: SLA sweeps, settling resolved cases, outbox delivery, key expiry.

Each step runs in its own short transactions, so any number of workers may run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from direkte import idempotency
from direkte.clock import Clock
from direkte.db import session_scope
from direkte.escalations.service import close_settled, escalate_breached
from direkte.notifications.service import deliver_pending

log = logging.getLogger("direkte.jobs")


@dataclass
class SweepReport:
    escalated: int = 0
    closed: int = 0
    delivered: int = 0
    expired_keys: int = 0


def sla_sweep(factory: sessionmaker[Session], *, now: datetime, batch: int = 200) -> int:
    """Move every breached tier-1 case to tier 2, a committed batch at a time."""
    total = 0
    while True:
        with session_scope(factory) as session:
            moved = escalate_breached(session, now=now, batch=batch)
            session.commit()
        total += moved
        if moved < batch:
            return total


def run_once(factory: sessionmaker[Session], clock: Clock) -> SweepReport:
    """One round of all background work at the clock's time."""
    now = clock.now()
    report = SweepReport(escalated=sla_sweep(factory, now=now))
    with session_scope(factory) as session:
        report.closed = close_settled(session, now=now)
        session.commit()
    while True:
        with session_scope(factory) as session:
            delivered = deliver_pending(session, now=now)
            session.commit()
        report.delivered += delivered
        if delivered == 0:
            break
    with session_scope(factory) as session:
        report.expired_keys = idempotency.purge_expired(session, now=now)
        session.commit()
    return report


def run_forever(factory: sessionmaker[Session], clock: Clock, *, interval: float) -> None:
    """Run ``run_once`` every ``interval`` seconds until interrupted; errors are logged."""
    while True:
        started = time.monotonic()
        try:
            report = run_once(factory, clock)
            if report.escalated or report.closed or report.delivered:
                log.info("worker: %s", report)
        except Exception:
            log.exception("worker round failed; retrying next round")
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
