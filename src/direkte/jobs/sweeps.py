"""Background work: SLA sweeps, settling resolved cases, outbox delivery, key expiry.

A round runs six steps (outbox delivery fans out; sending makes the e-mails and
webhook calls, ``jobs.sending``; the last recomputes the daily figures of the days
changes marked, ``analytics.rollups``), each in its own short transactions, so any number
of workers may run. The steps are isolated: one that raises is logged and named in
the round's report, and the others still run. Within outbox delivery each event is
isolated too (``notifications.service.deliver_pending``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from direkte import idempotency
from direkte.analytics import service as analytics
from direkte.auth import service as auth_service
from direkte.auth.limits import purge_windows
from direkte.clock import Clock
from direkte.db import session_scope
from direkte.escalations.service import close_settled, escalate_breached
from direkte.jobs.sending import Outbound, send_due
from direkte.notifications.service import (
    IN_APP_ONLY,
    Channels,
    DeliveryRound,
    count_parked,
    deliver_pending,
)

log = logging.getLogger("direkte.jobs")


@dataclass
class SweepReport:
    """What one round did. ``parked_total`` counts every parked outbox event (ops'
    to look at), not only those parked in this round (``parked``)."""

    escalated: int = 0
    closed: int = 0
    delivered: int = 0
    retried: int = 0
    parked: int = 0
    parked_total: int = 0
    sent: int = 0  # e-mails, webhook calls and held-back in-app notifications
    send_retried: int = 0
    dead_lettered: int = 0
    expired_keys: int = 0
    figure_marks: int = 0  # dirty marks whose days' figures were recomputed
    failed_steps: list[str] = field(default_factory=list)

    @property
    def eventful(self) -> bool:
        """Whether the round did or found anything worth a log line."""
        return any(
            (
                self.escalated,
                self.closed,
                self.delivered,
                self.retried,
                self.parked,
                self.sent,
                self.send_retried,
                self.dead_lettered,
                self.expired_keys,
                self.figure_marks,
                self.failed_steps,
            )
        )


def _in_batches(factory: sessionmaker[Session], step: Callable[[Session], int], batch: int) -> int:
    """Run ``step`` in committed transactions until it does less than ``batch``; the total."""
    total = 0
    while True:
        with session_scope(factory) as session:
            done = step(session)
            session.commit()
        total += done
        if done < batch:
            return total


def sla_sweep(factory: sessionmaker[Session], *, now: datetime, batch: int = 200) -> int:
    """Move every breached tier-1 case to tier 2, a committed batch at a time."""
    return _in_batches(factory, lambda s: escalate_breached(s, now=now, batch=batch), batch)


def settle(factory: sessionmaker[Session], *, now: datetime, batch: int = 500) -> int:
    """Close every resolved case past its appeal window, a committed batch at a time."""
    return _in_batches(factory, lambda s: close_settled(s, now=now, batch=batch), batch)


def deliver_outbox(
    factory: sessionmaker[Session],
    *,
    now: datetime,
    batch: int = 500,
    channels: Channels = IN_APP_ONLY,
) -> DeliveryRound:
    """Deliver every due outbox event, a committed batch at a time.

    Failed events are not due again before ``now`` has moved on, so this ends.
    """
    total = DeliveryRound()
    while True:
        with session_scope(factory) as session:
            done = deliver_pending(session, now=now, batch=batch, channels=channels)
            session.commit()
        total.delivered += done.delivered
        total.retried += done.retried
        total.parked += done.parked
        if done.claimed < batch:
            return total


def expire_keys(factory: sessionmaker[Session], *, now: datetime) -> int:
    """Delete idempotency keys past their keeping time, and logged-out tokens past expiry and
    rate-limit windows that have passed."""
    with session_scope(factory) as session:
        expired = idempotency.purge_expired(session, now=now)
        auth_service.purge_revoked_tokens(session, now=now)
        purge_windows(session, now=now.timestamp())
        session.commit()
    return expired


def refresh_figures(factory: sessionmaker[Session], *, now: datetime, batch: int = 5000) -> int:
    """Recompute the daily figures of every day a change marked, a committed batch of
    marks at a time; the number of marks handled."""
    return _in_batches(factory, lambda s: analytics.refresh_dirty(s, now=now, batch=batch), batch)


def _escalate(
    factory: sessionmaker[Session], now: datetime, report: SweepReport, _: Outbound
) -> None:
    report.escalated = sla_sweep(factory, now=now)


def _settle(
    factory: sessionmaker[Session], now: datetime, report: SweepReport, _: Outbound
) -> None:
    report.closed = settle(factory, now=now)


def _deliver(
    factory: sessionmaker[Session], now: datetime, report: SweepReport, outbound: Outbound
) -> None:
    done = deliver_outbox(factory, now=now, channels=outbound.channels)
    report.delivered, report.retried, report.parked = done.delivered, done.retried, done.parked
    with session_scope(factory) as session:
        report.parked_total = count_parked(session)


def _send(
    factory: sessionmaker[Session], now: datetime, report: SweepReport, outbound: Outbound
) -> None:
    sent = send_due(factory, now=now, outbound=outbound)
    report.sent, report.send_retried, report.dead_lettered = sent.sent, sent.retried, sent.dead


def _expire(
    factory: sessionmaker[Session], now: datetime, report: SweepReport, _: Outbound
) -> None:
    report.expired_keys = expire_keys(factory, now=now)


def _figures(
    factory: sessionmaker[Session], now: datetime, report: SweepReport, _: Outbound
) -> None:
    report.figure_marks = refresh_figures(factory, now=now)


Step = Callable[[sessionmaker[Session], datetime, SweepReport, Outbound], None]
STEPS: tuple[tuple[str, Step], ...] = (
    ("sla_sweep", _escalate),
    ("close_settled", _settle),
    ("outbox", _deliver),
    ("send", _send),
    ("expire_keys", _expire),
    ("figures", _figures),
)


def run_once(
    factory: sessionmaker[Session], clock: Clock, outbound: Outbound | None = None
) -> SweepReport:
    """One round of all background work at the clock's time.

    A step that raises is logged and named in ``failed_steps``; the next step runs.
    What a failed step committed before it raised stays committed.
    """
    now = clock.now()
    report = SweepReport()
    for name, step in STEPS:
        try:
            step(factory, now, report, outbound or Outbound())
        except Exception:
            log.exception("worker step %s failed; the round goes on", name)
            report.failed_steps.append(name)
    return report


def run_forever(
    factory: sessionmaker[Session],
    clock: Clock,
    *,
    interval: float,
    outbound: Outbound | None = None,
    rounds: int | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run ``run_once`` every ``interval`` seconds; returns how many rounds ran.

    Runs until ``rounds`` rounds have run or ``stop`` is set (waking from the wait at
    once), else until interrupted. A round that raises is logged; the next one runs.
    """
    stop = stop or threading.Event()
    done = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            report = run_once(factory, clock, outbound)
            if report.failed_steps:
                log.error("worker round with failed steps: %s", report)
            elif report.eventful:
                log.info("worker: %s", report)
        except Exception:
            log.exception("worker round failed; retrying next round")
        done += 1
        if rounds is not None and done >= rounds:
            break
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    return done
