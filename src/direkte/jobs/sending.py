"""Sending e-mails, webhook calls and held-back in-app notifications: claim → commit →
send → record (``notifications.sending``), so no row lock is held over the network."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from direkte.config import Settings
from direkte.db import session_scope
from direkte.escalations.models import Escalation
from direkte.escalations.schemas import escalation_detail
from direkte.notifications import mail, webhooks
from direkte.notifications.models import Channel, OutboxEvent
from direkte.notifications.sending import Claim, Result, claim_due, deliver_in_app, record_try
from direkte.notifications.service import Channels

log = logging.getLogger("direkte.jobs")
# Webhook calls in flight at once per worker: a slow target (5 s timeout) holds one.
PARALLEL_CALLS = 16


@dataclass(frozen=True)
class Outbound:
    """How this worker sends: SMTP (off when ``smtp_url`` is empty) and webhook rules."""

    smtp_url: str = ""
    mail_from: str = "direkte <no-reply@direkte.invalid>"
    public_url: str = "http://127.0.0.1:8000"
    allow_private: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Outbound:
        return cls(
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            public_url=settings.public_url,
            allow_private=settings.webhook_allow_private,
        )

    @property
    def channels(self) -> Channels:
        return Channels(email=bool(self.smtp_url), webhook_body=webhook_body)

    @property
    def sent_channels(self) -> tuple[Channel, ...]:
        on = (Channel.in_app, Channel.webhook)
        return (*on, Channel.email) if self.smtp_url else on


def webhook_body(session: Session, name: str, event: OutboxEvent, now: datetime) -> str:
    """API.md's body: ``{"type", "timestamp", "data": {"escalation": ...}}``, the case
    as ``GET /escalations/{id}`` shows it to the customer."""
    case = session.get_one(Escalation, event.aggregate_id)
    shown = escalation_detail(case, now=now, viewer=case.customer).model_dump(mode="json")
    return json.dumps(
        {"type": name, "timestamp": now.isoformat(), "data": {"escalation": shown}},
        separators=(",", ":"),
        ensure_ascii=False,
    )


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def send_due(
    factory: sessionmaker[Session], *, now: datetime, outbound: Outbound, batch: int = 100
) -> SendReport:
    """Send every due delivery, a claimed batch at a time; each try is recorded."""
    report = SendReport()
    while True:
        with session_scope(factory) as session:
            claims = claim_due(session, now=now, channels=outbound.sent_channels, batch=batch)
            session.commit()
        if not claims:
            return report
        results = _send(claims, outbound, factory=factory, now=now)
        with session_scope(factory) as session:
            for claim in claims:
                if claim.channel == Channel.in_app:
                    continue
                result = results[claim.id]
                if record_try(session, claim, result, now=now):
                    report.dead += 1
                    log.error("delivery %s (%s) dead-lettered", claim.id, claim.channel.value)
                elif result.ok:
                    report.sent += 1
                else:
                    report.retried += 1
            session.commit()
        if len(claims) < batch:
            return report


def _send(
    claims: list[Claim], outbound: Outbound, *, factory: sessionmaker[Session], now: datetime
) -> dict[int, Result]:
    held = [c for c in claims if c.channel == Channel.in_app]
    if held:
        with session_scope(factory) as session:
            for claim in held:
                deliver_in_app(session, claim, now=now)
            session.commit()
    results = mail.send_all(
        [c for c in claims if c.channel == Channel.email],
        smtp_url=outbound.smtp_url,
        sender=outbound.mail_from,
        public_url=outbound.public_url,
    )
    calls = [c for c in claims if c.channel == Channel.webhook]
    if calls:
        parallel = min(PARALLEL_CALLS, len(calls))
        with webhooks.client(parallel) as http, ThreadPoolExecutor(parallel) as pool:
            call: Callable[[Claim], Result] = lambda c: webhooks.call(  # noqa: E731
                c, http=http, allow_private=outbound.allow_private, now=now
            )
            results |= dict(zip((c.id for c in calls), pool.map(call, calls), strict=True))
    return results
