"""close_settled: a resolved case closes once its appeal window (7 days by default)
has passed; cases still inside it, or not resolved, stay as they are."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from direkte.escalations.models import Escalation, EscalationEvent, EscalationStatus
from direkte.jobs.sweeps import settle
from tests.conftest import T0
from tests.jobs.conftest import Committed, resolve

WINDOW = timedelta(days=7)


def status(db: Committed, case_id: int) -> tuple[EscalationStatus, object]:
    with db.factory() as session:
        case = session.get_one(Escalation, case_id)
        return case.status, case.closed_at


class TestCloseSettled:
    def test_closes_resolved_cases_past_their_window_and_leaves_the_others(
        self, committed: Committed
    ) -> None:
        early = committed.open_case("RO-A", at=T0)
        late = committed.open_case("RO-B", at=T0 + timedelta(minutes=10))
        still_open = committed.open_case("RO-C", at=T0 + timedelta(minutes=20))
        resolve(committed, early, T0 + timedelta(hours=1))
        resolve(committed, late, T0 + timedelta(days=2))
        settle_at = T0 + timedelta(hours=1) + WINDOW  # the window's last instant

        assert settle(committed.factory, now=settle_at) == 1

        assert status(committed, early) == (EscalationStatus.closed, settle_at)
        assert status(committed, late) == (EscalationStatus.resolved, None)
        assert status(committed, still_open)[0] == EscalationStatus.open
        with committed.factory() as session:
            [event] = session.scalars(
                sa.select(EscalationEvent).where(
                    EscalationEvent.escalation_id == early,
                    EscalationEvent.to_status == "closed",
                )
            )
        assert (event.at, event.actor_kind, event.from_status) == (settle_at, "system", "resolved")

        # Settling again closes nothing more; a week after the second, it closes too.
        assert settle(committed.factory, now=settle_at) == 0
        assert settle(committed.factory, now=T0 + timedelta(days=2) + WINDOW) == 1
        assert status(committed, late)[0] == EscalationStatus.closed
        assert status(committed, still_open)[0] == EscalationStatus.open

    def test_a_case_resolved_inside_the_window_stays_resolved(self, committed: Committed) -> None:
        case_id = committed.open_case("RO-A", at=T0)
        resolve(committed, case_id, T0 + timedelta(hours=1))

        assert settle(committed.factory, now=T0 + timedelta(hours=1) + WINDOW - timedelta(1)) == 0

        assert status(committed, case_id) == (EscalationStatus.resolved, None)

    def test_settles_every_due_case_batch_after_batch(self, committed: Committed) -> None:
        ids = [committed.open_case(f"RO-{n}", at=T0 + timedelta(minutes=n)) for n in range(3)]
        for case_id in ids:
            resolve(committed, case_id, T0 + timedelta(hours=1))

        assert settle(committed.factory, now=T0 + timedelta(days=8), batch=1) == 3

        assert {status(committed, i)[0] for i in ids} == {EscalationStatus.closed}
