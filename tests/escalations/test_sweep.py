"""The SLA sweep: `direkte sla sweep --now ISO` on a committed database, and sweepers
running at once (DESIGN.md §3, Auto-escalation).

These tests commit for real, so each gets its own fresh database (``cli_env``).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from direkte.cli import main
from direkte.clock import FixedClock
from direkte.db import make_engine, make_sessionmaker
from direkte.escalations import service as escalations
from direkte.escalations.models import (
    Category,
    Escalation,
    EscalationEvent,
    EscalationStatus,
)
from direkte.jobs.sweeps import sla_sweep
from direkte.network.models import User
from direkte.notifications.models import OutboxEvent
from tests.conftest import T0
from tests.escalations.conftest import Committed

# 17:00 Oslo on the Wednesday: past the 11:00 UTC first-response target of a case
# opened at T0, and past the 16:00 Oslo close of its resolution target.
SWEEP_AT = datetime.fromisoformat("2026-11-18T16:00:00+00:00")


def sweep(at: datetime = SWEEP_AT) -> str:
    result = CliRunner().invoke(main, ["sla", "sweep", "--now", at.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def load(db: Committed, case_id: int) -> Escalation:
    with db.factory() as session:
        return session.get_one(Escalation, case_id)


def events(db: Committed, case_id: int, kind: str) -> list[EscalationEvent]:
    with db.factory() as session:
        return list(
            session.scalars(
                sa.select(EscalationEvent).where(
                    EscalationEvent.escalation_id == case_id, EscalationEvent.kind == kind
                )
            )
        )


def outbox(db: Committed, case_id: int, topic: str) -> list[OutboxEvent]:
    with db.factory() as session:
        return list(
            session.scalars(
                sa.select(OutboxEvent).where(
                    OutboxEvent.aggregate_id == case_id, OutboxEvent.topic == topic
                )
            )
        )


class TestSlaSweepCommand:
    def test_breached_tier1_case_moves_to_tier2_with_the_regional_manager(
        self, committed: Committed
    ) -> None:
        case_id = committed.open_case("RO-A", at=T0)
        assert load(committed, case_id).first_response_due == T0 + timedelta(hours=2)

        output = sweep()

        assert output.startswith("1 case(s) moved to tier 2")
        case = load(committed, case_id)
        assert (case.tier, case.status, case.breached_at) == (2, EscalationStatus.open, SWEEP_AT)
        assert case.assignee_id == committed.user_id("lars@example.no")
        # Tier 2's 4 business hours start at Thursday's 08:00 Oslo opening.
        assert case.first_response_due == datetime.fromisoformat("2026-11-19T12:00:00+01:00")
        [event] = events(committed, case_id, "auto_escalated")
        assert (event.at, event.actor_kind, event.from_status, event.to_status) == (
            SWEEP_AT,
            "system",
            "open",
            "open",
        )
        assert event.data["breached"] == "first_response"
        assert (event.data["from_tier"], event.data["to_tier"]) == (1, 2)
        [note] = outbox(committed, case_id, "escalation.auto_escalated")
        assert note.recipients == sorted(
            committed.user_id(email)
            # DESIGN §7a: a breach tells the regional and the local manager, not the customer
            for email in ("kari@example.no", "lars@example.no")
        )
        assert (note.payload["tier"], note.payload["breached"]) == (2, "first_response")

    def test_case_within_target_does_not_move(self, committed: Committed) -> None:
        # Opened 14:30 Oslo: two business hours reach into Thursday morning.
        case_id = committed.open_case("RO-B", at=T0 + timedelta(hours=4, minutes=30))

        assert sweep().startswith("0 case(s) moved")

        case = load(committed, case_id)
        assert (case.tier, case.assignee_id) == (1, committed.user_id("kari@example.no"))
        assert events(committed, case_id, "auto_escalated") == []
        assert outbox(committed, case_id, "escalation.auto_escalated") == []

    def test_case_awaiting_the_customer_does_not_move(self, committed: Committed) -> None:
        case_id = committed.open_case("RO-C", at=T0)
        committed.staff_message(case_id, T0 + timedelta(minutes=10), await_customer=True)
        case = load(committed, case_id)
        assert case.status == EscalationStatus.awaiting_customer
        assert case.resolution_due is not None
        assert case.resolution_due < SWEEP_AT  # the target has passed, but the clock is off

        assert sweep().startswith("0 case(s) moved")

        assert (load(committed, case_id).tier, load(committed, case_id).status) == (
            1,
            EscalationStatus.awaiting_customer,
        )
        assert events(committed, case_id, "auto_escalated") == []

    def test_acknowledged_case_past_resolution_moves_with_that_breach(
        self, committed: Committed
    ) -> None:
        case_id = committed.open_case("RO-D", at=T0)
        with committed.factory() as session:
            kari = session.scalars(sa.select(User).where(User.email == "kari@example.no")).one()
            escalations.acknowledge_escalation(
                session, FixedClock(T0 + timedelta(minutes=5)), viewer=kari, escalation_id=case_id
            )
            session.commit()

        assert sweep().startswith("1 case(s) moved")

        case = load(committed, case_id)
        assert (case.tier, case.status) == (2, EscalationStatus.open)
        [event] = events(committed, case_id, "auto_escalated")
        assert (event.from_status, event.data["breached"]) == ("acknowledged", "resolution")

    def test_second_sweep_moves_nothing(self, committed: Committed) -> None:
        breached = committed.open_case("RO-A", at=T0)
        committed.open_case("RO-B", at=T0 + timedelta(hours=4, minutes=30))
        assert sweep().startswith("1 case(s) moved")
        version = load(committed, breached).version

        assert sweep().startswith("0 case(s) moved")

        assert load(committed, breached).version == version
        assert len(events(committed, breached, "auto_escalated")) == 1
        assert len(outbox(committed, breached, "escalation.auto_escalated")) == 1

    def test_now_without_offset_is_a_usage_error(self, committed: Committed) -> None:
        committed.open_case("RO-A", at=T0)
        result = CliRunner().invoke(main, ["sla", "sweep", "--now", "2026-11-18T16:00:00"])
        assert result.exit_code == 2
        assert "--now" in result.output


class TestConcurrentSweepers:
    CASES = 1_200
    SWEEPERS = 4

    def test_four_sweepers_move_each_breached_case_exactly_once(
        self, backend: str, request: pytest.FixtureRequest
    ) -> None:
        if backend == "sqlite":
            pytest.skip(
                "SQLite serializes writers and has no SELECT ... FOR UPDATE SKIP LOCKED; "
                "concurrent sweepers are exercised on PostgreSQL only"
            )
        committed: Committed = request.getfixturevalue("committed")
        real = load(committed, committed.open_case("RO-A", at=T0))
        # Bulk-inserted rows straight into the table, all pointing at the one real
        # visit, customer and center: not a state the use cases would build (one open
        # case per visit and category), but all the sweep reads, and fast to make.
        rows = [
            {
                "visit_id": real.visit_id,
                "customer_id": real.customer_id,
                "center_id": real.center_id,
                "category": Category.diagnosis,
                "subject_id": real.subject_id,
                "reason": f"bulk case {i}",
                "status": EscalationStatus.open,
                "tier": 1,
                "assignee_id": real.assignee_id,
                "guardrail": real.guardrail,
                "version": 1,
                "created_at": T0,
                "updated_at": T0,
                "currency": "NOK",
                "first_response_due": T0 + timedelta(hours=2),
                "resolution_due": T0 + timedelta(hours=6),
                "sla_next_due": T0 + timedelta(hours=2) - timedelta(seconds=i % 600),
            }
            for i in range(self.CASES)
        ]
        with committed.factory() as session:
            session.execute(sa.insert(Escalation), rows)
            session.commit()
        total = self.CASES + 1
        start = threading.Barrier(self.SWEEPERS)

        def sweeper() -> int:
            engine = make_engine(committed.url, pool_size=2)
            try:
                factory = make_sessionmaker(engine)
                start.wait(timeout=30)
                return sla_sweep(factory, now=SWEEP_AT, batch=50)
            finally:
                engine.dispose()

        with ThreadPoolExecutor(self.SWEEPERS) as pool:
            moved = [f.result() for f in [pool.submit(sweeper) for _ in range(self.SWEEPERS)]]

        assert sum(moved) == total
        with committed.factory() as session:
            per_case = dict(
                session.execute(
                    sa.select(EscalationEvent.escalation_id, sa.func.count())
                    .where(EscalationEvent.kind == "auto_escalated")
                    .group_by(EscalationEvent.escalation_id)
                ).all()
            )
            tiers = dict(
                session.execute(
                    sa.select(Escalation.tier, sa.func.count()).group_by(Escalation.tier)
                ).all()
            )
            notices = session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.topic == "escalation.auto_escalated")
            )
        assert len(per_case) == total
        assert set(per_case.values()) == {1}
        assert tiers == {2: total}
        assert notices == total
