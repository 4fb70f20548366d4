"""The worker: a round runs every step even when one raises, reports what it did
(parked outbox events included), and the loop survives a failing round."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import sessionmaker

from direkte import idempotency
from direkte.cli import main, start_background_worker
from direkte.clock import FixedClock
from direkte.config import get_settings
from direkte.db import make_engine, make_sessionmaker
from direkte.escalations.models import Escalation, EscalationStatus
from direkte.idempotency import IdempotencyRecord
from direkte.jobs import sweeps
from direkte.jobs.sweeps import SweepReport, deliver_outbox, run_forever, run_once
from direkte.notifications.models import Notification, OutboxEvent
from direkte.notifications.service import MAX_ATTEMPTS, outbox_row
from tests.conftest import T0
from tests.jobs.conftest import Committed, emit_event, resolve

WEEK = timedelta(days=7)
# Wednesday a week after T0, 17:00 Oslo: a case opened at 10:00 that day has breached
# its first-response target, and one resolved on T0 has passed its appeal window.
ROUND = T0 + WEEK + timedelta(hours=7)
UNKNOWN_USER = 987_654


class Busy:
    """Work for every step: a breached case, a settled case, outbox events (one of
    them poison: its recipient does not resolve) and an expired idempotency key."""

    def __init__(self, db: Committed) -> None:
        self.db = db
        self.settled = db.open_case("RO-S", at=T0)
        resolve(db, self.settled, T0 + timedelta(hours=1))
        self.breached = db.open_case("RO-B", at=T0 + WEEK)
        self.poison = emit_event(db, [db.user_id("ola@example.no"), UNKNOWN_USER], T0, n=0)
        with db.factory() as session:
            idempotency.claim(session, now=T0, scope="test", key="k", print_="p")
            session.commit()
            self.events = int(session.scalar(sa.select(sa.func.count(OutboxEvent.id))) or 0)

    def case(self, case_id: int) -> Escalation:
        with self.db.factory() as session:
            return session.get_one(Escalation, case_id)

    def undelivered(self) -> list[int]:
        with self.db.factory() as session:
            return list(
                session.scalars(sa.select(OutboxEvent.id).where(OutboxEvent.delivered_at.is_(None)))
            )

    def keys(self) -> int:
        with self.db.factory() as session:
            return int(session.scalar(sa.select(sa.func.count(IdempotencyRecord.id))) or 0)


@pytest.fixture
def busy(committed: Committed) -> Busy:
    return Busy(committed)


def boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("boom")


class TestRunOnce:
    def test_a_round_runs_every_step_and_reports_it(self, busy: Busy) -> None:
        report = run_once(busy.db.factory, FixedClock(ROUND))

        assert report.failed_steps == []
        assert (report.escalated, report.closed, report.expired_keys) == (1, 1, 1)
        # Every event but the poison one is delivered: those the round itself emitted too.
        assert busy.undelivered() == [busy.poison]
        assert report.delivered >= busy.events - 1
        assert (report.retried, report.parked, report.parked_total) == (1, 0, 0)
        assert busy.case(busy.breached).tier == 2
        assert busy.case(busy.settled).status == EscalationStatus.closed
        assert busy.keys() == 0

    @pytest.mark.parametrize(
        ("target", "step"),
        [
            ("escalate_breached", "sla_sweep"),
            ("close_settled", "close_settled"),
            ("deliver_pending", "outbox"),
            ("purge_expired", "expire_keys"),
        ],
    )
    def test_a_step_that_raises_does_not_stop_the_others(
        self,
        busy: Busy,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
        target: str,
        step: str,
    ) -> None:
        owner = idempotency if target == "purge_expired" else sweeps
        monkeypatch.setattr(owner, target, boom)

        report = run_once(busy.db.factory, FixedClock(ROUND))

        assert report.failed_steps == [step]
        assert f"worker step {step} failed" in caplog.text
        assert "RuntimeError: boom" in caplog.text
        ran = {
            "sla_sweep": busy.case(busy.breached).tier == 2,
            "close_settled": busy.case(busy.settled).status == EscalationStatus.closed,
            "outbox": busy.undelivered() == [busy.poison],
            "expire_keys": busy.keys() == 0,
        }
        assert ran == {name: name != step for name in ran}

    def test_a_poison_event_is_parked_after_the_last_try_and_reported(
        self, committed: Committed
    ) -> None:
        ola = committed.user_id("ola@example.no")
        poison = emit_event(committed, [UNKNOWN_USER], T0, n=0)
        clock = FixedClock(T0)
        reports: list[SweepReport] = []
        for n in range(MAX_ATTEMPTS):
            emit_event(committed, [ola], clock.now(), n=n + 1)
            reports.append(run_once(committed.factory, clock))
            with committed.factory() as session:
                due = session.get_one(OutboxEvent, poison).next_attempt_at
            if due is not None:
                clock.at = due

        assert [r.delivered for r in reports] == [1] * MAX_ATTEMPTS
        assert [r.retried for r in reports] == [1] * (MAX_ATTEMPTS - 1) + [0]
        assert [(r.parked, r.parked_total) for r in reports[-2:]] == [(0, 0), (1, 1)]
        later = run_once(committed.factory, FixedClock(clock.now() + timedelta(days=1)))
        assert (later.retried, later.parked, later.parked_total) == (0, 0, 1)
        with committed.factory() as session:
            row = session.get_one(OutboxEvent, poison)
        assert (row.attempts, row.parked_at) == (MAX_ATTEMPTS, clock.now())
        assert row.last_error is not None


class TestRunForever:
    def test_runs_its_rounds_and_survives_one_that_raises(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        calls: list[int] = []

        def round_(_factory: Any, _clock: Any, _outbound: Any = None) -> SweepReport:
            calls.append(len(calls) + 1)
            if len(calls) == 2:
                raise RuntimeError("database went away")
            return SweepReport(delivered=1)

        monkeypatch.setattr(sweeps, "run_once", round_)

        ran = run_forever(sessionmaker(), FixedClock(T0), interval=0.0, rounds=3)

        assert (ran, calls) == (3, [1, 2, 3])
        assert "worker round failed" in caplog.text

    def test_stop_ends_the_wait_between_rounds_at_once(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        started = threading.Event()
        monkeypatch.setattr(sweeps, "run_once", lambda *_: started.set() or SweepReport())
        stop = threading.Event()
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(
                run_forever, sessionmaker(), FixedClock(T0), interval=3600.0, stop=stop
            )
            assert started.wait(timeout=10)
            stop.set()
            assert running.result(timeout=10) == 1

    def test_real_rounds_deliver_while_a_step_keeps_failing(
        self, busy: Busy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sweeps, "close_settled", boom)

        assert run_forever(busy.db.factory, FixedClock(ROUND), interval=0.0, rounds=2) == 2

        assert busy.undelivered() == [busy.poison]
        assert busy.case(busy.breached).tier == 2
        assert busy.case(busy.settled).status == EscalationStatus.resolved


class TestWorkerCommand:
    def test_once_runs_one_round_and_prints_its_report(self, busy: Busy) -> None:
        result = CliRunner().invoke(main, ["worker", "--once"])

        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["failed_steps"] == []
        assert report["delivered"] >= 1
        assert report["retried"] == 1
        assert {"escalated", "closed", "parked", "parked_total", "expired_keys"} <= set(report)

    def test_once_fails_when_a_step_failed(
        self, busy: Busy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sweeps, "deliver_pending", boom)

        result = CliRunner().invoke(main, ["worker", "--once"])

        assert result.exit_code == 1
        assert json.loads(result.stdout.strip().splitlines()[-1])["failed_steps"] == ["outbox"]


class TestConcurrentDelivery:
    EVENTS = 600
    WORKERS = 4

    def test_four_workers_deliver_each_event_exactly_once(self, committed: Committed) -> None:
        recipients = [committed.user_id(e) for e in ("ola@example.no", "kari@example.no")]
        rows = [
            outbox_row(
                at=T0,
                topic="test.event",
                aggregate_kind="escalation",
                aggregate_id=n,
                recipients=list(recipients),
                payload={"n": n},
            )
            for n in range(self.EVENTS)
        ]
        with committed.factory() as session:
            session.execute(sa.insert(OutboxEvent), rows)
            session.commit()
        start = threading.Barrier(self.WORKERS)

        def worker() -> int:
            engine = make_engine(committed.url, pool_size=2)
            try:
                factory = make_sessionmaker(engine)
                start.wait(timeout=30)
                return deliver_outbox(factory, now=T0 + timedelta(minutes=1), batch=25).delivered
            finally:
                engine.dispose()

        with ThreadPoolExecutor(self.WORKERS) as pool:
            delivered = [f.result() for f in [pool.submit(worker) for _ in range(self.WORKERS)]]

        assert sum(delivered) == self.EVENTS
        with committed.factory() as session:
            attempts = session.execute(
                sa.select(OutboxEvent.attempts, sa.func.count()).group_by(OutboxEvent.attempts)
            ).all()
            notes = session.scalar(sa.select(sa.func.count(Notification.id)))
        assert [tuple(a) for a in attempts] == [(1, self.EVENTS)]
        assert notes == self.EVENTS * len(recipients)


class TestWorkerInsideServe:
    """`direkte serve` on the embedded database runs the rounds in a thread of its own."""

    def test_a_background_round_delivers_and_stops(self, committed: Committed) -> None:
        ola = committed.user_id("ola@example.no")
        emit_event(committed, [ola], T0, note="hello")
        thread, stop = start_background_worker(get_settings(), rounds=1)
        thread.join(timeout=60)
        assert not thread.is_alive()
        stop.set()
        with committed.factory() as session:
            delivered = session.scalars(
                sa.select(Notification.user_id).where(Notification.user_id == ola)
            ).all()
        assert delivered == [ola]
