"""Outbox delivery: each event once, and a poison event retried with backoff, then
parked, while the events around it are delivered in the same calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from direkte.network.models import User
from direkte.notifications import service
from direkte.notifications.models import Notification, OutboxEvent
from direkte.notifications.service import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    backoff,
    count_parked,
    deliver_pending,
    emit,
)
from tests.conftest import T0
from tests.factories import make_network

UNKNOWN_USER = 987_654


@pytest.fixture
def users(session: Session, clock: FixedClock) -> dict[str, int]:
    make_network(session, clock)
    return {
        email.split("@")[0]: user_id
        for email, user_id in session.execute(sa.select(User.email, User.id))
    }


def add_event(session: Session, recipients: list[int], *, at: datetime = T0, n: int = 1) -> int:
    """Emit a test event (as a use case would, in the caller's transaction); its id."""
    emit(
        session,
        at=at,
        topic="test.event",
        aggregate_kind="escalation",
        aggregate_id=n,
        recipients=list(recipients),
        payload={"n": n},
    )
    session.flush()
    return int(session.scalar(sa.select(sa.func.max(OutboxEvent.id))) or 0)


def event(session: Session, event_id: int) -> OutboxEvent:
    session.expire_all()
    return session.get_one(OutboxEvent, event_id)


def notified(session: Session, event_id: int) -> list[int]:
    return sorted(
        session.scalars(
            sa.select(Notification.user_id).where(Notification.outbox_event_id == event_id)
        )
    )


class TestDeliverPending:
    def test_each_recipient_gets_one_notification_and_the_event_is_marked(
        self, session: Session, users: dict[str, int]
    ) -> None:
        first = add_event(session, [users["ola"], users["kari"]], n=1)
        second = add_event(session, [users["lars"]], n=2)

        done = deliver_pending(session, now=T0 + timedelta(seconds=5))

        assert (done.delivered, done.retried, done.parked) == (2, 0, 0)
        assert notified(session, first) == sorted([users["ola"], users["kari"]])
        assert notified(session, second) == [users["lars"]]
        row = event(session, first)
        assert (row.delivered_at, row.attempts, row.parked_at) == (
            T0 + timedelta(seconds=5),
            1,
            None,
        )
        [note] = session.scalars(
            sa.select(Notification).where(
                Notification.outbox_event_id == second, Notification.user_id == users["lars"]
            )
        )
        assert (note.topic, note.payload, note.read_at) == ("test.event", {"n": 2}, None)

    def test_a_second_call_delivers_nothing_more(
        self, session: Session, users: dict[str, int]
    ) -> None:
        add_event(session, [users["ola"], users["kari"]], n=1)
        add_event(session, [users["lars"]], n=2)
        deliver_pending(session, now=T0)
        before = session.scalar(sa.select(sa.func.count()).select_from(Notification))

        again = deliver_pending(session, now=T0 + timedelta(hours=1))

        assert again.claimed == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == before == 3

    def test_a_batch_takes_the_oldest_events_first(
        self, session: Session, users: dict[str, int]
    ) -> None:
        ids = [add_event(session, [users["ola"]], n=n) for n in range(5)]

        assert deliver_pending(session, now=T0, batch=2).delivered == 2

        assert [bool(notified(session, i)) for i in ids] == [True, True, False, False, False]
        assert deliver_pending(session, now=T0, batch=10).delivered == 3

    def test_an_event_for_nobody_is_delivered_with_no_notification(
        self, session: Session, users: dict[str, int]
    ) -> None:
        nobody = add_event(session, [], n=1)

        assert deliver_pending(session, now=T0).delivered == 1
        assert event(session, nobody).delivered_at == T0
        assert notified(session, nobody) == []


class TestPoisonEvent:
    def test_retried_with_growing_backoff_then_parked_while_the_others_go_through(
        self, session: Session, users: dict[str, int]
    ) -> None:
        # A recipient that no longer resolves: the notification's foreign key fails.
        before = add_event(session, [users["ola"]], n=0)
        poison = add_event(session, [users["kari"], UNKNOWN_USER], n=1)
        after = add_event(session, [users["lars"]], n=2)

        now = T0
        first = deliver_pending(session, now=now)

        assert (first.delivered, first.retried, first.parked) == (2, 1, 0)
        assert notified(session, before) == [users["ola"]]
        assert notified(session, after) == [users["lars"]]
        # Nothing of the failed try is kept, not even kari's notification.
        assert notified(session, poison) == []
        row = event(session, poison)
        assert (row.attempts, row.delivered_at, row.parked_at) == (1, None, None)
        assert row.last_error is not None
        assert "IntegrityError" in row.last_error
        # Not due again in the same call or before its backoff has passed.
        assert deliver_pending(session, now=now).claimed == 0

        delays = []
        while True:
            row = event(session, poison)
            if row.parked_at is not None:
                break
            assert row.next_attempt_at is not None
            delays.append(row.next_attempt_at - now)
            assert deliver_pending(session, now=row.next_attempt_at - timedelta(seconds=1)) == (
                service.DeliveryRound()
            )
            now = row.next_attempt_at
            # An event emitted meanwhile goes through in the same call as the retry.
            fresh = add_event(session, [users["ola"]], at=now, n=len(delays) + 2)
            done = deliver_pending(session, now=now)
            assert done.delivered == 1
            assert notified(session, fresh) == [users["ola"]]
            assert done.retried + done.parked == 1

        assert len(delays) == MAX_ATTEMPTS - 1
        for attempt, delay in enumerate(delays, start=1):
            ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
            assert ceiling / 2 <= delay <= ceiling, (attempt, delay)
        # Each wait is at least as long as the one before.
        assert all(b >= a for a, b in pairwise(delays))
        parked = event(session, poison)
        assert (parked.attempts, parked.parked_at, parked.next_attempt_at) == (
            MAX_ATTEMPTS,
            now,
            None,
        )
        assert count_parked(session) == 1
        # Parked: never tried again, however late.
        assert deliver_pending(session, now=now + timedelta(days=30)).claimed == 0
        assert event(session, poison).attempts == MAX_ATTEMPTS
        assert notified(session, poison) == []

    def test_a_failing_channel_is_rolled_back_for_its_event_only(
        self, session: Session, users: dict[str, int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = [add_event(session, [users["ola"], users["kari"]], n=n) for n in range(3)]
        poison = ids[1]
        real = service.deliver_event

        def flaky(session: Session, event: OutboxEvent, *, now: datetime, **kw: Any) -> None:
            real(session, event, now=now, **kw)  # writes its notifications, then fails
            if event.id == poison:
                raise RuntimeError("mail server said no")

        monkeypatch.setattr(service, "deliver_event", flaky)

        done = deliver_pending(session, now=T0)

        assert (done.delivered, done.retried) == (2, 1)
        assert [len(notified(session, i)) for i in ids] == [2, 0, 2]
        row = event(session, poison)
        assert row.last_error == "RuntimeError: mail server said no"
        due = row.next_attempt_at
        assert due is not None
        assert T0 + BACKOFF_BASE / 2 <= due <= T0 + BACKOFF_BASE

        monkeypatch.setattr(service, "deliver_event", real)
        assert deliver_pending(session, now=due).delivered == 1
        healed = event(session, poison)
        assert (healed.attempts, healed.delivered_at, healed.next_attempt_at) == (2, due, None)
        assert len(notified(session, poison)) == 2


class TestBackoff:
    @pytest.mark.parametrize(
        ("attempts", "low", "high"),
        [
            (1, timedelta(seconds=15), timedelta(seconds=30)),
            (2, timedelta(seconds=30), timedelta(minutes=1)),
            (3, timedelta(minutes=1), timedelta(minutes=2)),
            (7, timedelta(minutes=16), timedelta(minutes=32)),
            (9, timedelta(minutes=30), timedelta(hours=1)),
            (500, timedelta(minutes=30), timedelta(hours=1)),
        ],
    )
    def test_doubles_per_try_with_jitter_and_a_cap(
        self, attempts: int, low: timedelta, high: timedelta
    ) -> None:
        assert backoff(attempts, rand=lambda: 0.0) == low
        assert backoff(attempts, rand=lambda: 1.0) == high
        assert low <= backoff(attempts) <= high

    def test_jitter_spreads_events_failing_together(self) -> None:
        draws: set[Any] = {backoff(4) for _ in range(50)}
        assert len(draws) > 1
