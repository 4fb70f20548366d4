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
from typing import Any

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
    visits = list(
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
    queue: list[tuple[datetime, int, Step]] = []
    counter = 0

    def plan(at: datetime, step: Step) -> None:
        nonlocal counter
        if at <= now:
            counter += 1
            heapq.heappush(queue, (at, counter, step))

    ops = session.scalars(sa.select(User).where(User.role == Role.ops_admin).limit(1)).first()
    # The first eligible visits play every scenario once, so each status appears.
    pending = [name for name, _ in SCENARIOS] + ["held", "rejected"]
    # The latest visits hold the cases still waiting on someone; each such status once
    # first, so that it shows whatever the time of day (older ones are settled or
    # breached by now).
    waiting = ["acknowledged", "awaiting_customer", "open"]
    for visit in visits:
        running = visit.center.program != Program.off
        subject = _subject(rng, visit)
        if subject is None:
            continue
        recent = now - _last_change(visit) < timedelta(hours=30)
        if rng.random() > (0.9 if recent and running else share if running else share / 3):
            continue
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
        _script(plan, rng, visit, subject, opened_at, scenario, ops)
    clock = FixedClock(now)
    done = 0
    while queue:
        at, _, step = heapq.heappop(queue)
        clock.at = at
        cases.escalate_breached(session, now=at, batch=100_000)
        try:
            with session.begin_nested():
                step(session, clock)
            done += 1
        except DomainError:
            pass  # a step overtaken by events (the case moved on first)
    cases.escalate_breached(session, now=now, batch=100_000)
    cases.close_settled(session, now=now, batch=100_000)
    total = session.scalar(sa.select(sa.func.count(Escalation.id)))
    return {"escalation_steps": done, "escalations": int(total or 0)}


def _script(
    plan: Callable[[datetime, Step], None],
    rng: random.Random,
    visit: Visit,
    subject: tuple[Category, int],
    t0: datetime,
    scenario: str,
    ops: User | None,
) -> None:
    category, subject_id = subject
    customer = visit.customer
    box: dict[str, Any] = {}

    def case(session: Session) -> Escalation:
        if "id" not in box:
            raise DomainError("the request was not routed")
        return session.get_one(Escalation, box["id"])

    def staff(session: Session) -> User:
        found = case(session).assignee
        if found is None:
            raise DomainError("no assignee")
        return found

    def open_(session: Session, clock: FixedClock) -> None:
        opened = cases.open_escalation(
            session,
            clock,
            viewer=customer,
            visit_id=visit.id,
            category=category,
            subject_id=subject_id,
            reason=THREAT if scenario in ("held", "rejected") else rng.choice(REASONS[category]),
        )
        if opened.escalation is not None:  # a rejected request stays recorded
            box["id"] = opened.escalation.id

    def ack(session: Session, clock: FixedClock) -> None:
        cases.acknowledge_escalation(
            session, clock, viewer=staff(session), escalation_id=case(session).id
        )

    def message(body: str, wait: bool = False) -> Step:
        def run(session: Session, clock: FixedClock) -> None:
            cases.post_message(
                session,
                clock,
                viewer=staff(session),
                escalation_id=case(session).id,
                body=body,
                await_customer=wait,
            )

        return run

    def reply(session: Session, clock: FixedClock) -> None:
        cases.post_message(
            session,
            clock,
            viewer=customer,
            escalation_id=case(session).id,
            body="Here are the photos and the earlier invoice.",
        )

    def resolve(outcome: Outcome) -> Step:
        def run(session: Session, clock: FixedClock) -> None:
            current = case(session)
            delta = {
                Outcome.upheld: "0",
                Outcome.revised: str(-rng.randint(5, 60) * 100),
                Outcome.goodwill: str(-rng.randint(2, 20) * 100),
            }[outcome]
            cases.resolve_escalation(
                session,
                clock,
                viewer=staff(session),
                escalation_id=case(session).id,
                outcome=outcome,
                amount_delta=delta,
                note="We have gone through the case with the workshop.",
                version=current.version,
            )

        return run

    def rate(session: Session, clock: FixedClock) -> None:
        cases.rate_escalation(
            session,
            clock,
            viewer=customer,
            escalation_id=case(session).id,
            score=rng.choice([2, 3, 4, 4, 5, 5, 5]),
            comment=None,
        )

    def appeal(session: Session, clock: FixedClock) -> None:
        appealed = cases.appeal_escalation(
            session,
            clock,
            viewer=customer,
            escalation_id=case(session).id,
            reason="I still do not agree with the outcome.",
        )
        if appealed.decision.decision == "reject":
            raise DomainError("appeal refused")

    def withdraw(session: Session, clock: FixedClock) -> None:
        cases.withdraw_escalation(session, clock, viewer=customer, escalation_id=case(session).id)

    def h(hours: float) -> datetime:
        return t0 + timedelta(hours=hours)

    outcome = rng.choice([Outcome.upheld, Outcome.upheld, Outcome.revised, Outcome.goodwill])

    def moderate(session: Session, clock: FixedClock) -> None:
        if ops is None:
            raise DomainError("no ops user")
        cases.reject_held(
            session,
            clock,
            viewer=ops,
            escalation_id=case(session).id,
            reason="Threats against our staff are not accepted.",
        )

    plan(t0, open_)
    if scenario in ("open", "breached", "held"):
        return
    if scenario == "rejected":
        plan(h(2), moderate)
        return
    if scenario == "withdrawn":
        plan(h(rng.uniform(0.2, 1.5)), withdraw)
        return
    plan(h(rng.uniform(0.1, 1.5)), ack)
    if scenario == "acknowledged":
        return
    if scenario in ("awaiting_customer", "answered_after_wait"):
        plan(h(1.6), message("Could you send photos of the damage?", wait=True))
        if scenario == "answered_after_wait":
            plan(h(rng.uniform(3, 20)), reply)
            plan(h(rng.uniform(21, 30)), resolve(outcome))
        return
    plan(h(rng.uniform(1.6, 4)), message("We are looking into it with the technician."))
    plan(
        h(rng.uniform(4.1, 7)),
        resolve(
            Outcome.upheld
            if scenario.startswith("appeal") or scenario == "upheld_closed"
            else outcome
        ),
    )
    if scenario == "resolved_rated":
        plan(h(rng.uniform(8, 48)), rate)
    if scenario.startswith("appealed"):
        plan(h(rng.uniform(10, 60)), appeal)
        if scenario == "appealed_resolved":
            plan(h(rng.uniform(61, 70)), ack)
            plan(h(rng.uniform(71, 80)), resolve(rng.choice([Outcome.revised, Outcome.goodwill])))
            plan(h(rng.uniform(81, 120)), rate)
