"""A large synthetic history of escalation requests, for backtests and benchmarks.

On top of a loaded demo network and its visits, it bulk-inserts recorded
requests over the last year with full facts (categories, materiality inputs,
frequency histories, content flags, managers' loads), each decided by the
built-in default policy, and a case for every request that made one, with its
status and outcome. The facts are drawn, not gathered: they are what a request
could have seen at its time, which is all a backtest reads. Cases get no SLA
due times, so the SLA sweep leaves the few open ones alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.demo.escalations import REASONS
from direkte.errors import RuleViolation
from direkte.escalations.models import (
    Category,
    Escalation,
    EscalationRequest,
    EscalationStatus,
    Outcome,
)
from direkte.guardrails.engine import Decision, Facts, evaluate
from direkte.guardrails.explanations import explain
from direkte.guardrails.policy import DEFAULT_POLICY
from direkte.network.models import Center, Role, User
from direkte.network.service import find_advisor, find_managers
from direkte.visits.models import Diagnosis, Estimate, Visit, WarrantyDecision

_SCALE = {
    "NOK": Decimal(1),
    "SEK": Decimal(1),
    "DKK": Decimal("0.65"),
    "EUR": Decimal("0.09"),
    "ISK": Decimal(13),
}
_CENT = Decimal("0.01")
_CATEGORIES = (Category.diagnosis, Category.estimate, Category.warranty)
_OUTCOMES = (Outcome.upheld, Outcome.revised, Outcome.goodwill)
_BUSY = {"pilot": 1.0, "on": 1.0, "off": 0.03}  # requests at centers where it is off: rare
_CHUNK = 5000


class NoDemoVisits(RuleViolation):
    code = "no_demo_visits"


@dataclass(frozen=True, slots=True)
class _Place:
    """A visit the history hangs on, with who would take its cases."""

    visit_id: int
    customer_id: int
    center_id: int
    currency: str
    program: str
    language: str
    subjects: dict[Category, int]
    local_id: int | None
    deputy_id: int | None
    regional_id: int | None
    advisor_id: int | None


@dataclass(slots=True)
class _Case:
    id: int
    tier: int
    ends_at: datetime


def _staff(
    session: Session, center: Center
) -> tuple[int | None, int | None, int | None, int | None]:
    local, regional = find_managers(session, center_id=center.id, region_id=center.region_id)
    deputy = None
    if local is not None:
        deputy = local.deputy if local.deputy is not None and local.deputy.active else None
        if deputy is None:
            deputy = session.scalars(
                sa.select(User)
                .where(
                    User.center_id == center.id,
                    User.role == Role.local_manager,
                    User.active,
                    User.id != local.id,
                )
                .order_by(User.id)
                .limit(1)
            ).first()
    advisor = find_advisor(session, center, None)

    def id_of(person: User | None) -> int | None:
        return person.id if person else None

    return id_of(local), id_of(deputy), id_of(regional), id_of(advisor)


def _places(session: Session) -> list[_Place]:
    subjects: dict[int, dict[Category, int]] = {}
    for category, model in (
        (Category.diagnosis, Diagnosis),
        (Category.estimate, Estimate),
        (Category.warranty, WarrantyDecision),
    ):
        for visit_id, subject_id in session.execute(
            sa.select(model.visit_id, sa.func.max(model.id)).group_by(model.visit_id)
        ):
            subjects.setdefault(visit_id, {})[category] = subject_id
    centers = {c.id: c for c in session.scalars(sa.select(Center))}
    staff = {cid: _staff(session, c) for cid, c in centers.items()}
    rows = session.execute(
        sa.select(Visit.id, Visit.customer_id, Visit.center_id, Visit.currency, User.language)
        .join(User, User.id == Visit.customer_id)
        .where(Visit.id.in_(list(subjects)))
        .order_by(Visit.id)
    )
    return [
        _Place(
            visit_id,
            customer_id,
            center_id,
            currency,
            centers[center_id].program.value,
            language,
            subjects[visit_id],
            *staff[center_id],
        )
        for visit_id, customer_id, center_id, currency, language in rows
    ]


def _money(rng: random.Random, low: int, high: int, currency: str) -> Decimal:
    return (Decimal(rng.randint(low, high)) * _SCALE.get(currency, Decimal(1))).quantize(_CENT)


def _subject_facts(rng: random.Random, category: Category, currency: str) -> dict[str, Any]:
    if category == Category.estimate:
        base = _money(rng, 1500, 25000, currency)
        percent = rng.choices(
            [rng.uniform(0, 12), rng.uniform(12, 40), rng.uniform(40, 120)], [55, 30, 15]
        )[0]
        total = (base * (1 + Decimal(percent) / 100)).quantize(_CENT)
        return {
            "currency": currency,
            "estimate_total": str(total),
            "first_approved_total": str(base),
            "safety_related": rng.random() < 0.1,
        }
    if category == Category.warranty:
        claimed = _money(rng, 800, 40000, currency)
        decision = rng.choices(["not_covered", "goodwill_partial", "covered"], [60, 30, 10])[0]
        covered = {"not_covered": Decimal(0), "goodwill_partial": (claimed / 2).quantize(_CENT)}
        return {
            "currency": currency,
            "warranty_claimed": str(claimed),
            "warranty_covered": str(covered.get(decision, claimed)),
            "warranty_decision": decision,
            "safety_related": rng.random() < 0.12,
            "within_coverage": rng.random() < 0.35,
        }
    previous = None if rng.random() < 0.55 else int(rng.triangular(1, 365, 1))
    return {
        "safety_related": rng.random() < 0.15,
        "drivable": rng.random() < 0.92,
        "days_since_previous_visit": previous,
        "contradicts_previous": rng.random() < 0.1,
    }


def _history_facts(rng: random.Random, at: datetime) -> dict[str, Any]:
    cases = rng.choices([0, 1, 2, 3, 4, 5, 6, 8], [50, 22, 12, 6, 4, 3, 2, 1])[0]
    outcomes = tuple(
        rng.choices([o.value for o in _OUTCOMES], [55, 25, 20])[0] for _ in range(min(cases, 5))
    )
    return {
        "cases_last_365_days": cases,
        "recent_outcomes": outcomes,
        "last_outcome_at": at - timedelta(days=rng.uniform(1, 120)) if outcomes else None,
    }


def _load(rng: random.Random) -> int:
    return rng.randint(15, 25) if rng.random() < 0.12 else rng.randint(0, 12)


def _facts(
    rng: random.Random, place: _Place, category: Category, at: datetime, open_case: _Case | None
) -> Facts:
    checked_in = at - timedelta(hours=rng.uniform(1, 240))
    closed = rng.random() < 0.7
    threat, abuse = rng.random() < 0.008, rng.random() < 0.015
    matches = (("threat:i will sue you",) if threat else ()) + (("abuse:idiots",) if abuse else ())
    return Facts(
        kind="create",
        category=category.value,
        program=place.program,
        visit_status="closed" if closed else rng.choice(["diagnosing", "in_repair", "ready"]),
        visit_checked_in_at=checked_in,
        visit_closed_at=max(at - timedelta(days=rng.expovariate(1 / 3)), checked_in)
        if closed
        else None,
        subject_id=place.subjects[category],
        subject_belongs=rng.random() < 0.995,
        open_case_id=open_case.id if open_case else None,
        open_case_tier=open_case.tier if open_case else None,
        similar_case_id=open_case.id if open_case else None,
        similar_case_tier=open_case.tier if open_case else None,
        similarity=round(rng.uniform(0.2, 0.95), 3) if open_case else 0.0,
        **_history_facts(rng, at),
        **_subject_facts(rng, category, place.currency),
        language=place.language,
        threat=threat,
        abuse=abuse,
        content_matches=matches,
        local_manager_id=place.local_id,
        local_open=_load(rng),
        deputy_id=place.deputy_id,
        deputy_open=_load(rng),
        regional_manager_id=place.regional_id,
        regional_open=rng.randint(0, 30),
    )


def _guardrail(decision: Decision, language: str) -> dict[str, Any]:
    """The recorded guardrail JSON (``Decision.as_json`` deep-copies: too slow for 100k)."""
    policy = DEFAULT_POLICY
    reason = "held" if decision.decision == "moderate" else decision.reason
    return {
        "decision": decision.decision,
        "tier": decision.tier,
        "policy_version": decision.policy_version,
        "rules": [
            {"rule": r.rule, "passed": r.passed, "inputs": r.inputs, "note": r.note}
            for r in decision.rules
        ],
        "explanation": explain(
            reason,
            language,
            days=policy.escalation_window_days,
            limit=policy.frequency.max_per_365_days,
            cooldown=policy.frequency.cooldown_days,
        ),
        "reason": decision.reason,
    }


_FACT_FIELDS = tuple(f.name for f in fields(Facts))


def _facts_json(facts: Facts) -> dict[str, Any]:
    """What ``Facts.as_json`` gives, without its deep copy."""
    out: dict[str, Any] = {}
    for name in _FACT_FIELDS:
        value = getattr(facts, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def _outcome(rng: random.Random, tier: int, facts: Facts) -> Outcome:
    right = 0.3 if tier == 0 else 0.5
    if facts.safety_related or facts.contradicts_previous:
        right += 0.1
    if rng.random() >= right:
        return Outcome.upheld
    return Outcome.revised if rng.random() < 0.6 else Outcome.goodwill


def _case_state(
    rng: random.Random, tier: int, facts: Facts, at: datetime, now: datetime, *, held: bool
) -> dict[str, Any]:
    """The status, its times, the outcome and the version a case made at ``at`` has by ``now``."""
    age = now - at
    responded = at + timedelta(hours=rng.uniform(0.3, 6))
    settled = min(at + timedelta(hours=rng.uniform(2, 120)), now)
    row: dict[str, Any] = {
        "status": EscalationStatus.resolved,
        "first_response_at": min(responded, now),
        "resolved_at": settled,
        "closed_at": None,
        "outcome": _outcome(rng, tier, facts),
        "rejection_reason": None,
        "version": 4,
    }
    if age < timedelta(days=2) and rng.random() < 0.7:
        status = (
            EscalationStatus.held
            if held
            else rng.choice([EscalationStatus.open, EscalationStatus.acknowledged])
        )
        row |= {"status": status, "resolved_at": None, "outcome": None, "version": 2}
        if status != EscalationStatus.acknowledged or responded > now:
            row["first_response_at"] = None
    elif held and rng.random() < 0.5:
        row |= {"status": EscalationStatus.rejected, "outcome": None, "first_response_at": None}
        row |= {"resolved_at": None, "rejection_reason": "threats or abuse"}
    elif rng.random() < 0.04:
        row |= {"status": EscalationStatus.withdrawn, "outcome": None, "resolved_at": None}
    elif settled + timedelta(days=7) <= now:
        row |= {"status": EscalationStatus.closed, "closed_at": settled + timedelta(days=7)}
    return row


def _case_row(
    rng: random.Random,
    place: _Place,
    facts: Facts,
    decision: Decision,
    at: datetime,
    now: datetime,
    guardrail: dict[str, Any],
) -> dict[str, Any]:
    """The case a request made, at the state it has reached by ``now``."""
    tier = decision.tier if decision.tier is not None else 1
    assignee = decision.assignee_id or (place.advisor_id if tier == 0 else place.regional_id)
    held = decision.decision == "moderate"
    row = _case_state(rng, tier, facts, at, now, held=held)
    outcome = row["outcome"]
    delta = None
    if outcome is not None:
        delta = Decimal(0) if outcome == Outcome.upheld else -_money(rng, 200, 6000, place.currency)
    touched = row["closed_at"] or row["resolved_at"] or row["first_response_at"] or at
    return row | {
        "visit_id": place.visit_id,
        "customer_id": place.customer_id,
        "center_id": place.center_id,
        "category": Category(facts.category),
        "subject_id": facts.subject_id,
        "reason": "",
        "tier": tier,
        "assignee_id": assignee,
        "guardrail": guardrail,
        "held_back": held and row["status"] in (EscalationStatus.held, EscalationStatus.rejected),
        "created_at": at,
        "updated_at": touched,
        "currency": place.currency,
        "amount_delta": delta,
        "outcome_tier": tier if outcome is not None else None,
        "outcome_note": "Reviewed with the workshop." if outcome is not None else None,
    }


_ACTIVE = (
    EscalationStatus.held,
    EscalationStatus.open,
    EscalationStatus.acknowledged,
)


def _times(rng: random.Random, count: int, now: datetime, days: int) -> list[datetime]:
    """Request times over the last ``days`` days, in the daytime (05-20 UTC), oldest first."""
    out = []
    for _ in range(count):
        day = now - timedelta(days=rng.randint(1, days))
        at = day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            seconds=rng.uniform(5 * 3600, 20 * 3600)
        )
        out.append(min(at, now - timedelta(minutes=5)))
    return sorted(out)


def load_history(
    session: Session, *, requests: int, now: datetime, seed: int = 1, days: int = 365
) -> dict[str, int]:
    """Bulk-insert ``requests`` recorded requests over the last ``days`` days, and their cases.

    Needs the demo network and its visits. Decisions are the built-in default
    policy's (version "0"). The caller commits. Raises NoDemoVisits.
    """
    places = _places(session)
    if not places:
        raise NoDemoVisits(
            "no visits with a diagnosis, estimate or warranty decision: load the demo"
        )
    rng = random.Random(seed)
    weights = [_BUSY.get(p.program, 1.0) for p in places]
    policy = DEFAULT_POLICY
    cases: dict[tuple[int, Category], _Case] = {}
    made = {"requests": 0, "escalations": 0}
    times = _times(rng, requests, now, days)
    for start in range(0, requests, _CHUNK):
        requests_rows, case_rows = [], []
        for at in times[start : start + _CHUNK]:
            place = rng.choices(places, weights)[0]
            category = rng.choice([c for c in _CATEGORIES if c in place.subjects])
            known = cases.get((place.visit_id, category))
            open_case = known if known and known.ends_at > at and rng.random() < 0.2 else None
            facts = _facts(rng, place, category, at, open_case)
            decision = evaluate(policy, facts, at)
            guardrail = _guardrail(decision, place.language)
            reason = rng.choice(REASONS[category])
            request = {
                "created_at": at,
                "kind": "create",
                "visit_id": place.visit_id,
                "customer_id": place.customer_id,
                "center_id": place.center_id,
                "category": category.value,
                "subject_id": facts.subject_id,
                "reason": reason,
                "facts": _facts_json(facts),
                "decision": decision.decision,
                "tier": decision.tier,
                "policy_version": decision.policy_version,
                "result": guardrail,
                "escalation_id": decision.folded_into,
                "folded": decision.folded_into is not None,
            }
            requests_rows.append(request)
            if decision.decision != "reject" and decision.folded_into is None:
                case = _case_row(rng, place, facts, decision, at, now, guardrail)
                case["reason"] = reason
                case_rows.append((request, case))
        _insert(session, requests_rows, case_rows, cases)
        made["requests"] += len(requests_rows)
        made["escalations"] += len(case_rows)
    return made


def _insert(
    session: Session,
    requests: list[dict[str, Any]],
    made: list[tuple[dict[str, Any], dict[str, Any]]],
    cases: dict[tuple[int, Category], _Case],
) -> None:
    # Core inserts on the tables: the ORM's bulk path splits batches wherever a
    # column is None in one row and set in the next.
    connection = session.connection()
    if made:
        ids = connection.execute(
            _ESCALATIONS.insert().returning(_ESCALATIONS.c.id, sort_by_parameter_order=True),
            [case for _, case in made],
        ).scalars()
        for case_id, (request, case) in zip(ids, made, strict=True):
            request["escalation_id"] = case_id
            ends = case["closed_at"] or case["resolved_at"] or case["updated_at"]
            if case["status"] in _ACTIVE:
                ends = datetime.max.replace(tzinfo=case["created_at"].tzinfo)
            cases[case["visit_id"], case["category"]] = _Case(case_id, case["tier"], ends)
    connection.execute(_REQUESTS.insert(), requests)


_ESCALATIONS = cast(sa.Table, Escalation.__table__)
_REQUESTS = cast(sa.Table, EscalationRequest.__table__)
