"""E-mail over a real SMTP server (aiosmtpd): plain text and HTML in the recipient's
language, a Message-ID the same on a retry, and nothing sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from direkte.cli import main
from direkte.config import get_settings
from direkte.jobs.sending import Outbound, send_due
from direkte.jobs.sweeps import deliver_outbox
from direkte.notifications.models import Channel, Delivery, DeliveryAttempt
from direkte.notifications.service import emit
from tests.conftest import T0
from tests.jobs.conftest import emit_event
from tests.notifications.conftest import Committed, SmtpServer

NOW = T0 + timedelta(seconds=5)


def emit_resolved(db: Committed, emails: list[str], case_id: int = 42) -> int:
    with db.factory() as session:
        emit(
            session,
            at=T0,
            topic="escalation.resolved",
            aggregate_kind="escalation",
            aggregate_id=case_id,
            recipients=[db.user_id(e) for e in emails],
            payload={"escalation_id": case_id},
        )
        session.commit()
        return int(session.scalar(sa.text("select max(id) from outbox_events")) or 0)


def run(db: Committed, outbound: Outbound, at: datetime | None = None) -> None:
    now = at or NOW
    deliver_outbox(db.factory, now=now, channels=outbound.channels)
    send_due(db.factory, now=now, outbound=outbound)


class TestEmail:
    def test_each_recipient_gets_one_translated_mail_with_text_html_and_a_link(
        self, committed: Committed, smtp: SmtpServer
    ) -> None:
        outbound = Outbound(
            smtp_url=smtp.url, mail_from="direkte <noreply@direkte.test>",
            public_url="https://direkte.test",
        )  # fmt: skip
        event_id = emit_resolved(committed, ["ola@example.no", "eva@example.no"])

        run(committed, outbound)

        mails = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.messages}
        assert set(mails) == {"ola@example.no", "eva@example.no"}
        ola = mails["ola@example.no"]
        assert ola["Subject"] == "Saken din #42 har et utfall"
        assert ola["From"] == "direkte <noreply@direkte.test>"
        ola_id = committed.user_id("ola@example.no")
        assert ola["Message-ID"] == f"<direkte.{event_id}.{ola_id}@direkte.test>"
        plain = ola.get_body(("plain",))
        rich = ola.get_body(("html",))
        assert plain is not None
        assert rich is not None
        assert "https://direkte.test/app/cases/42" in plain.get_content()
        assert 'href="https://direkte.test/app/cases/42"' in rich.get_content()
        assert mails["eva@example.no"]["Subject"] == "Your case #42 has an outcome"

        run(committed, outbound, NOW + timedelta(hours=1))  # nothing is sent twice
        assert len(smtp.inbox.messages) == 2

    def test_a_failed_send_is_retried_with_the_same_message_id_and_sent_once(
        self, committed: Committed, smtp: SmtpServer
    ) -> None:
        outbound = Outbound(smtp_url=smtp.url)
        smtp.stop()
        emit_resolved(committed, ["ola@example.no"])

        run(committed, outbound)

        with committed.factory() as session:
            row = session.scalars(sa.select(Delivery)).one()
            assert (row.channel, row.attempts, row.delivered_at) == (Channel.email, 1, None)
            assert row.due_at is not None
            assert row.due_at > NOW
            assert row.last_error
            assert "Error" in row.last_error
            due = row.due_at
        run(committed, outbound, NOW + timedelta(seconds=1))  # not due yet: no new try
        smtp.start()
        run(committed, outbound, due)

        [mail] = smtp.inbox.messages
        assert mail["Message-ID"].startswith("<direkte.")
        with committed.factory() as session:
            row = session.scalars(sa.select(Delivery)).one()
            assert (row.attempts, row.delivered_at, row.due_at) == (2, due, None)
            tries = session.scalars(sa.select(DeliveryAttempt.ok).order_by(DeliveryAttempt.id))
            assert list(tries) == [False, True]
        run(committed, outbound, due + timedelta(hours=2))
        assert len(smtp.inbox.messages) == 1

    def test_without_smtp_no_mail_is_queued(self, committed: Committed) -> None:
        emit_event(committed, [committed.user_id("ola@example.no")], T0)
        run(committed, Outbound())
        with committed.factory() as session:
            assert session.scalar(sa.select(sa.func.count(Delivery.id))) == 0


@pytest.mark.parametrize("url", ["smtp://", "http://mail:25", "smtp://mail:port", "mail:25"])
def test_a_malformed_smtp_url_stops_the_worker_at_start_up(
    committed: Committed, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DIREKTE_SMTP_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["worker", "--once"])
    get_settings.cache_clear()

    assert result.exit_code == 1
    assert "DIREKTE_SMTP_URL must look like smtp://host:port" in result.output
