"""Demo escalations: requests and cases in every status, category and tier.

Each case follows a scripted path (acknowledged, answered, waited on the
customer, resolved, rated, appealed, withdrawn, or left to breach its SLA).
Every step goes through the real use cases at its own time, in time order,
with the SLA sweep run before each step as a worker would have run it.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from direkte.clock import FixedClock
from direkte.errors import DomainError
from direkte.escalations import service as cases
from direkte.escalations.models import Category, Escalation, Outcome
from direkte.network.models import Program, Role, User
from direkte.visits.models import Visit, WarrantyOutcome

Step = Callable[[Session, FixedClock], None]

SCENARIOS = [
    ("resolved_rated", 26),
    ("resolved", 10),
    ("acknowledged", 8),
    ("open", 6),
    ("awaiting_customer", 6),
    ("answered_after_wait", 6),
    ("withdrawn", 6),
    ("breached", 10),
    ("appealed", 8),
    ("appealed_resolved", 6),
    ("upheld_closed", 8),
]
THREAT = "Fiks bilen i dag, ellers kommer jeg og stikker deg ned."
REASONS = {
    Category.diagnosis: [
        "The same fault was diagnosed differently last month.",
        "I was told this was wear, but the car is only two years old.",
        "Feilen ble ikke funnet sist gang heller, og nå er den tilbake.",
    ],
    Category.estimate: [
        "The estimate went up a lot without anyone calling me first.",
        "Overslaget er nesten doblet siden i morges. Det godtar jeg ikke.",
        "Prisen er steget meget uden forklaring.",
    ],
    Category.warranty: [
        "This should be covered: the car is within the battery warranty.",
        "Garantien burde dekke dette, bilen har kjørt under 60 000 km.",
        "Das sollte von der Garantie abgedeckt sein.",
    ],
}


def _subject(rng: random.Random, visit: Visit) -> tuple[Category, int] | None:
    options: list[tuple[Category, int]] = []
    if len(visit.estimates) > 1:
        options += [(Category.estimate, visit.estimates[-1].id)] * 2
    denied = [w for w in visit.warranty_decisions if w.decision != WarrantyOutcome.covered]
    if denied:
        options += [(Category.warranty, denied[-1].id)] * 2
    if visit.diagnoses:
        options.append((Category.diagnosis, visit.diagnoses[-1].id))
    return rng.choice(options) if options else None


def _last_change(visit: Visit) -> datetime:
    times = [d.created_at for d in visit.diagnoses] + [e.created_at for e in visit.estimates]
    times += [w.created_at for w in visit.warranty_decisions]
    return max(times)


def load_demo_escalations(
    session: Session, rng: random.Random, *, now: datetime, prefix: str, share: float = 0.3
) -> dict[str, int]:
    """Open cases on a share of the demo visits and play their scripted paths."""
    visits = _demo_visits(session, prefix)
    ops = session.scalars(sa.select(User).where(User.role == Role.ops_admin).limit(1)).first()
    timeline = _Timeline(now)
    # The first eligible visits play every scenario once, so each status appears.
    pending = [name for name, _ in SCENARIOS] + ["held", "rejected"]
    # The latest visits hold the cases still waiting on someone; each such status once
    # first, so that it shows whatever the time of day (older ones are settled or
    # breached by now).
    waiting = ["acknowledged", "awaiting_customer", "open"]
    for visit in visits:
        subject = _subject(rng, visit)
        if subject is None:
            continue
        opening = _opening(rng, visit, now, share, pending, waiting)
        if opening is not None:
            opened_at, scenario = opening
            _script(timeline.plan, _Case(rng, visit, subject, opened_at, scenario, ops))
    done = timeline.play(session)
    cases.escalate_breached(session, now=now, batch=100_000)
    cases.close_settled(session, now=now, batch=100_000)
    total = session.scalar(sa.select(sa.func.count(Escalation.id)))
    return {"escalation_steps": done, "escalations": int(total or 0)}


def _demo_visits(session: Session, prefix: str) -> list[Visit]:
    return list(
        session.scalars(
            sa.select(Visit)
            .where(Visit.external_id.like(f"{prefix}%"))
            .order_by(Visit.id)
            .options(
                selectinload(Visit.diagnoses),
                selectinload(Visit.estimates),
                selectinload(Visit.warranty_decisions),
                selectinload(Visit.center),
                selectinload(Visit.customer),
            )
        )
    )


def _opening(
    rng: random.Random,
    visit: Visit,
    now: datetime,
    share: float,
    pending: list[str],
    waiting: list[str],
) -> tuple[datetime, str] | None:
    """When a case on ``visit`` opens and the scenario it plays; None when it gets none.

    Takes the next scenario from ``pending`` or ``waiting`` (removing it) while any is left.
    """
    running = visit.center.program != Program.off
    recent = now - _last_change(visit) < timedelta(hours=30)
    if rng.random() > (0.9 if recent and running else share if running else share / 3):
        return None
    opened_at = _last_change(visit) + timedelta(hours=rng.uniform(0.3, 5))
    if recent:
        opened_at = min(opened_at, now - timedelta(minutes=rng.randint(5, 60)))
        if waiting and running:
            scenario = waiting.pop(0)
        else:
            scenario = rng.choice(["open", "acknowledged", "awaiting_customer"])
    elif pending and running:
        scenario = pending.pop(0)
    else:
        scenario = rng.choices([s for s, _ in SCENARIOS], [w for _, w in SCENARIOS])[0]
    return opened_at, scenario


class _Timeline:
    """Every demo case's steps, played in time order up to ``now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.queue: list[tuple[datetime, int, Step]] = []
        self.counter = 0

    def plan(self, at: datetime, step: Step) -> None:
        """Queue ``step`` at ``at``; steps after ``now`` are dropped."""
        if at <= self.now:
            self.counter += 1
            heapq.heappush(self.queue, (at, self.counter, step))

    def play(self, session: Session) -> int:
        """Run the steps at their times, the SLA sweep before each; how many succeeded."""
        clock = FixedClock(self.now)
        done = 0
        while self.queue:
            at, _, step = heapq.heappop(self.queue)
            clock.at = at
            cases.escalate_breached(session, now=at, batch=100_000)
            try:
                with session.begin_nested():
                    step(session, clock)
                done += 1
            except DomainError:
                pass  # a step overtaken by events (the case moved on first)
        return done


class _Case:
    """One scripted case's steps, each run at its time through the real use cases."""

    def __init__(
        self,
        rng: random.Random,
        visit: Visit,
        subject: tuple[Category, int],
        t0: datetime,
        scenario: str,
        ops: User | None,
    ) -> None:
        self.rng = rng
        self.visit = visit
        self.customer = visit.customer
        self.category, self.subject_id = subject
        self.scenario = scenario
        self.ops = ops
        self.t0 = t0
        self.escalation_id: int | None = None

    def at(self, hours: float) -> datetime:
        """The time ``hours`` after the request."""
        return self.t0 + timedelta(hours=hours)

    def case(self, session: Session) -> Escalation:
        if self.escalation_id is None:
            raise DomainError("the request was not routed")
        return session.get_one(Escalation, self.escalation_id)

    def staff(self, session: Session) -> User:
        found = self.case(session).assignee
        if found is None:
            raise DomainError("no assignee")
        return found

    def open_(self, session: Session, clock: FixedClock) -> None:
        held = self.scenario in ("held", "rejected")
        opened = cases.open_escalation(
            session,
            clock,
            viewer=self.customer,
            visit_id=self.visit.id,
            category=self.category,
            subject_id=self.subject_id,
            reason=THREAT if held else self.rng.choice(REASONS[self.category]),
        )
        if opened.escalation is not None:  # a rejected request stays recorded
            self.escalation_id = opened.escalation.id

    def ack(self, session: Session, clock: FixedClock) -> None:
        cases.acknowledge_escalation(
            session, clock, viewer=self.staff(session), escalation_id=self.case(session).id
        )

    def message(self, body: str, wait: bool = False) -> Step:
        def run(session: Session, clock: FixedClock) -> None:
            cases.post_message(
                session,
                clock,
                viewer=self.staff(session),
                escalation_id=self.case(session).id,
                body=body,
                await_customer=wait,
            )

        return run

    def reply(self, session: Session, clock: FixedClock) -> None:
        cases.post_message(
            session,
            clock,
            viewer=self.customer,
            escalation_id=self.case(session).id,
            body="Here are the photos and the earlier invoice.",
        )

    def resolve(self, outcome: Outcome) -> Step:
        def run(session: Session, clock: FixedClock) -> None:
            current = self.case(session)
            delta = {
                Outcome.upheld: "0",
                Outcome.revised: str(-self.rng.randint(5, 60) * 100),
                Outcome.goodwill: str(-self.rng.randint(2, 20) * 100),
            }[outcome]
            cases.resolve_escalation(
                session,
                clock,
                viewer=self.staff(session),
                escalation_id=self.case(session).id,
                outcome=outcome,
                amount_delta=delta,
                note="We have gone through the case with the workshop.",
                version=current.version,
            )

        return run

    def rate(self, session: Session, clock: FixedClock) -> None:
        cases.rate_escalation(
            session,
            clock,
            viewer=self.customer,
            escalation_id=self.case(session).id,
            score=self.rng.choice([2, 3, 4, 4, 5, 5, 5]),
            comment=None,
        )

    def appeal(self, session: Session, clock: FixedClock) -> None:
        appealed = cases.appeal_escalation(
            session,
            clock,
            viewer=self.customer,
            escalation_id=self.case(session).id,
            reason="I still do not agree with the outcome.",
        )
        if appealed.decision.decision == "reject":
            raise DomainError("appeal refused")

    def withdraw(self, session: Session, clock: FixedClock) -> None:
        cases.withdraw_escalation(
            session, clock, viewer=self.customer, escalation_id=self.case(session).id
        )

    def moderate(self, session: Session, clock: FixedClock) -> None:
        if self.ops is None:
            raise DomainError("no ops user")
        cases.reject_held(
            session,
            clock,
            viewer=self.ops,
            escalation_id=self.case(session).id,
            reason="Threats against our staff are not accepted.",
        )


def _script(plan: Callable[[datetime, Step], None], case: _Case) -> None:
    """Plan the steps of one case's scripted path."""
    rng, scenario = case.rng, case.scenario
    outcome = rng.choice([Outcome.upheld, Outcome.upheld, Outcome.revised, Outcome.goodwill])
    plan(case.t0, case.open_)
    if scenario in ("open", "breached", "held"):
        return
    if scenario == "rejected":
        plan(case.at(2), case.moderate)
        return
    if scenario == "withdrawn":
        plan(case.at(rng.uniform(0.2, 1.5)), case.withdraw)
        return
    plan(case.at(rng.uniform(0.1, 1.5)), case.ack)
    if scenario in ("awaiting_customer", "answered_after_wait"):
        _plan_wait(plan, case, outcome)
    elif scenario != "acknowledged":
        _plan_answer(plan, case, outcome)


def _plan_wait(plan: Callable[[datetime, Step], None], case: _Case, outcome: Outcome) -> None:
    """The staff ask the customer for more; after a wait, the reply and the resolution."""
    rng = case.rng
    plan(case.at(1.6), case.message("Could you send photos of the damage?", wait=True))
    if case.scenario == "answered_after_wait":
        plan(case.at(rng.uniform(3, 20)), case.reply)
        plan(case.at(rng.uniform(21, 30)), case.resolve(outcome))


def _plan_answer(plan: Callable[[datetime, Step], None], case: _Case, outcome: Outcome) -> None:
    """The staff answer and resolve; then the rating, or the appeal and its resolution."""
    rng, scenario = case.rng, case.scenario
    plan(case.at(rng.uniform(1.6, 4)), case.message("We are looking into it with the technician."))
    plan(
        case.at(rng.uniform(4.1, 7)),
        case.resolve(
            Outcome.upheld
            if scenario.startswith("appeal") or scenario == "upheld_closed"
            else outcome
        ),
    )
    if scenario == "resolved_rated":
        plan(case.at(rng.uniform(8, 48)), case.rate)
    if scenario.startswith("appealed"):
        plan(case.at(rng.uniform(10, 60)), case.appeal)
        if scenario == "appealed_resolved":
            plan(case.at(rng.uniform(61, 70)), case.ack)
            again_at = case.at(rng.uniform(71, 80))  # drawn before the outcome, as ever
            plan(again_at, case.resolve(rng.choice([Outcome.revised, Outcome.goodwill])))
            plan(case.at(rng.uniform(81, 120)), case.rate)
