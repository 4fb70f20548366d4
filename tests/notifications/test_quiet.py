"""Quiet hours: a manager's notification due in them waits until they end (in the
center's time zone), unless the case is safety-related."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from direkte.jobs.sending import Outbound, send_due
from direkte.jobs.sweeps import deliver_outbox
from direkte.network.models import User
from direkte.notifications.models import Channel, Delivery, Notification
from direkte.notifications.quiet import quiet_until
from direkte.notifications.service import emit
from tests.factories import login, make_network
from tests.notifications.conftest import Committed, SmtpServer

OSLO = "Europe/Oslo"
NIGHT = datetime(2026, 11, 18, 22, 30, tzinfo=UTC)  # 23:30 in Oslo
MORNING = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)  # 07:00 in Oslo


class TestQuietUntil:
    @pytest.mark.parametrize(
        ("now", "start", "end", "expected"),
        [
            (NIGHT, time(22), time(7), MORNING),  # before midnight
            (MORNING - timedelta(hours=2), time(22), time(7), MORNING),  # after midnight
            (MORNING, time(22), time(7), None),  # the end is not quiet
            (datetime(2026, 11, 18, 12, tzinfo=UTC), time(22), time(7), None),
            (
                datetime(2026, 11, 18, 11, tzinfo=UTC),
                time(12),
                time(14),
                datetime(2026, 11, 18, 13, tzinfo=UTC),
            ),
            # Summer time: 07:00 in Oslo is 05:00 UTC.
            (
                datetime(2026, 7, 1, 22, tzinfo=UTC),
                time(22),
                time(7),
                datetime(2026, 7, 2, 5, tzinfo=UTC),
            ),
        ],
    )
    def test_the_end_of_the_quiet_hours_now_is_in(
        self, now: datetime, start: time, end: time, expected: datetime | None
    ) -> None:
        assert quiet_until(now, start, end, OSLO) == expected


class TestSetQuietHours:
    def test_a_manager_sets_and_clears_them(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock)
        kari = login(client, "kari@example.no")

        answer = client.put(
            "/api/v1/notifications/quiet-hours",
            json={"start": "22:00", "end": "07:00"},
            headers=kari,
        )

        assert answer.status_code == 200, answer.text
        assert answer.json() == {"start": "22:00:00", "end": "07:00:00"}
        cleared = client.put(
            "/api/v1/notifications/quiet-hours", json={"start": None, "end": None}, headers=kari
        )
        assert cleared.json() == {"start": None, "end": None}

    def test_a_customer_is_403_and_half_a_window_is_422(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock)
        body = {"start": "22:00", "end": "07:00"}
        ola = client.put(
            "/api/v1/notifications/quiet-hours", json=body, headers=login(client, "ola@example.no")
        )
        assert (ola.status_code, ola.json()["error"]["code"]) == (403, "managers_only")
        half = client.put(
            "/api/v1/notifications/quiet-hours",
            json={"start": "22:00", "end": None},
            headers=login(client, "kari@example.no"),
        )
        assert (half.status_code, half.json()["error"]["code"]) == (422, "validation_error")


def quiet_kari(db: Committed) -> int:
    with db.factory() as session:
        kari = session.scalars(sa.select(User).where(User.email == "kari@example.no")).one()
        kari.quiet_hours_start, kari.quiet_hours_end = time(22), time(7)
        session.commit()
        return kari.id


def notify(db: Committed, recipients: list[int], *, safety: bool) -> None:
    with db.factory() as session:
        emit(
            session,
            at=NIGHT,
            topic="escalation.opened",
            aggregate_kind="escalation",
            aggregate_id=5,
            recipients=recipients,
            payload={"escalation_id": 5, "safety": safety},
        )
        session.commit()


def inbox(db: Committed, user_id: int) -> int:
    with db.factory() as session:
        return int(
            session.scalar(
                sa.select(sa.func.count(Notification.id)).where(Notification.user_id == user_id)
            )
            or 0
        )


class TestQuietDelivery:
    def test_a_notification_in_quiet_hours_waits_until_they_end(
        self, committed: Committed, smtp: SmtpServer
    ) -> None:
        kari, lars = quiet_kari(committed), committed.user_id("lars@example.no")
        outbound = Outbound(smtp_url=smtp.url)
        notify(committed, [kari, lars], safety=False)

        deliver_outbox(committed.factory, now=NIGHT, channels=outbound.channels)
        send_due(committed.factory, now=NIGHT, outbound=outbound)

        assert (inbox(committed, kari), inbox(committed, lars)) == (0, 1)
        assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages] == ["lars@example.no"]
        with committed.factory() as session:
            waiting = session.execute(
                sa.select(Delivery.channel, Delivery.due_at).where(Delivery.user_id == kari)
            ).all()
        assert sorted(waiting) == [(Channel.email, MORNING), (Channel.in_app, MORNING)]

        send_due(committed.factory, now=MORNING - timedelta(minutes=1), outbound=outbound)
        assert inbox(committed, kari) == 0
        send_due(committed.factory, now=MORNING, outbound=outbound)
        assert inbox(committed, kari) == 1
        assert len(smtp.inbox.messages) == 2
        send_due(committed.factory, now=MORNING + timedelta(hours=1), outbound=outbound)
        assert inbox(committed, kari) == 1

    def test_a_safety_related_case_reaches_them_at_once(self, committed: Committed) -> None:
        kari = quiet_kari(committed)
        notify(committed, [kari], safety=True)

        deliver_outbox(committed.factory, now=NIGHT)

        assert inbox(committed, kari) == 1
