"""The facts a decision is made on, as recorded with each request, read through HTTP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.escalations.facts import _PUNCTUATION, similarity
from direkte.escalations.models import EscalationRequest
from tests.escalations.conftest import World, error_code
from tests.factories import make_vin

EARLIER_VISIT = {
    "booked_at": "2026-09-20T12:00:00+02:00",
    "appointment_date": "2026-10-01",
    "checked_in_at": "2026-10-01T08:00:00+02:00",
}


# Delivered 2021-03-01 with 42,000 km: past the basic coverage, within the battery's.
BASIC = {"kind": "basic", "years": 2, "distance_km": 40_000}
BATTERY = {"kind": "battery_drive_unit", "years": 8, "distance_km": 160_000}


def _vehicle(*coverages: dict[str, Any]) -> dict[str, Any]:
    return {
        "vin": make_vin(),
        "model": "Model 3",
        "model_year": 2021,
        "odometer_km": 42000,
        "delivery_date": "2021-03-01",
        "warranty": list(coverages),
    }


def _diagnosis(world: World, codes: list[str], *, safety: bool) -> int:
    body = {"findings": "Checked", "codes": codes, "safety_related": safety}
    return world.revise("diagnoses", body)


def _estimate_body(price: str) -> dict[str, Any]:
    line = {"kind": "part", "description": "Part", "quantity": "1", "unit_price": price}
    return {"lines": [line]}


def _estimate(world: World, price: str) -> int:
    return world.revise("estimates", _estimate_body(price))


def _warranty(world: World) -> int:
    body = {
        "decision": "not_covered",
        "claimed": "9000.00",
        "covered": "0.00",
        "reason_code": "W-BRAKE.01",
        "safety_related": False,
    }
    return world.revise("warranty-decisions", body)


def _diagnosis_request(world: World, session: Session, email: str) -> dict[str, Any]:
    """A visit (RO-1) with a diagnosis, and the request to escalate it as ``email``'s
    user: ``read_request``'s arguments but the lock."""
    from direkte.escalations.models import Category
    from direkte.network.models import User

    visit_id = world.visit("RO-1")
    diagnosis = _diagnosis(world, ["P0300"], safety=False)
    return {
        "visit_id": visit_id,
        "customer": session.scalars(sa.select(User).where(User.email == email)).one(),
        "category": Category.diagnosis,
        "subject_id": diagnosis,
        "now": world.clock.now(),
    }


def _facts(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(sa.select(EscalationRequest).order_by(EscalationRequest.id))
    return [row.facts for row in rows]


class TestRecordedFacts:
    def test_diagnosis_then_estimate(self, world: World, session: Session) -> None:
        world.visit("RO-0", **EARLIER_VISIT)  # the same car, 48 days before
        visit_id = world.visit("RO-1")
        _diagnosis(world, ["P0300"], safety=False)
        second = _diagnosis(world, ["C1101"], safety=True)
        assert world.escalate(visit_id, second).status_code == 201
        _estimate(world, "1000.00")
        raised = _estimate(world, "5000.00")
        response = world.escalate(visit_id, raised, category="estimate")
        assert response.status_code == 201, response.text

        diagnosis, estimate = _facts(session)
        assert diagnosis["subject_belongs"] is True
        assert diagnosis["contradicts_previous"] is True  # no code in common
        assert diagnosis["days_since_previous_visit"] == 48
        assert diagnosis["safety_related"] is True
        assert diagnosis["cases_last_365_days"] == 0
        assert Decimal(estimate["estimate_total"]) == Decimal("5000")
        # None approved yet: the first estimate is the base.
        assert Decimal(estimate["first_approved_total"]) == Decimal("1000")
        assert estimate["safety_related"] is True  # a safety diagnosis on the visit
        assert estimate["cases_last_365_days"] == 1

    def test_first_diagnosis_has_nothing_to_contradict(
        self, world: World, session: Session
    ) -> None:
        visit_id = world.visit("RO-1")
        first = _diagnosis(world, ["P0300"], safety=False)
        assert world.escalate(visit_id, first).status_code == 201
        (facts,) = _facts(session)
        assert facts["contradicts_previous"] is False
        assert facts["days_since_previous_visit"] is None
        assert facts["safety_related"] is False

    def test_warranty_within_coverage(self, world: World, session: Session) -> None:
        visit_id = world.visit("RO-1", vehicle=_vehicle(BASIC, BATTERY))
        decision = _warranty(world)
        assert world.escalate(visit_id, decision, category="warranty").status_code == 201
        (facts,) = _facts(session)
        assert facts["warranty_decision"] == "not_covered"
        assert Decimal(facts["warranty_claimed"]) == Decimal("9000")
        assert facts["within_coverage"] is True  # the second coverage still runs

    def test_warranty_outside_every_coverage(self, world: World, session: Session) -> None:
        visit_id = world.visit("RO-1", vehicle=_vehicle(BASIC))
        decision = _warranty(world)
        assert world.escalate(visit_id, decision, category="warranty").status_code == 201
        (facts,) = _facts(session)
        assert facts["within_coverage"] is False

    def test_subject_of_another_visit_is_recorded_as_not_belonging(
        self, world: World, session: Session
    ) -> None:
        world.visit("RO-0", **EARLIER_VISIT)
        other = world.revise(
            "diagnoses", {"findings": "x", "codes": [], "safety_related": False}, "RO-0"
        )
        visit_id = world.visit("RO-1")
        refused = world.escalate(visit_id, other)
        assert refused.status_code == 422
        assert error_code(refused) == "not_eligible"
        (facts,) = _facts(session)
        assert facts["subject_belongs"] is False
        assert facts["cases_last_365_days"] == 0

    def test_open_cases_of_each_manager(self, world: World, session: Session) -> None:
        first_visit = world.visit("RO-1")
        assert world.escalate(first_visit, world.diagnosis("RO-1")).status_code == 201
        second_visit = world.visit("RO-2")
        assert world.escalate(second_visit, world.diagnosis("RO-2")).status_code == 201
        before, after = _facts(session)
        assert before["local_open"] == 0
        assert after["local_manager_id"] == before["local_manager_id"] is not None
        assert after["local_open"] == 1  # the first case, routed to the local manager
        assert after["deputy_id"] is not None
        assert (after["deputy_open"], after["regional_open"]) == (0, 0)

    def test_recent_outcomes_newest_first_and_open_cases(
        self, world: World, session: Session
    ) -> None:
        # Two cases resolved an hour apart (revised, then upheld), then a third case on a
        # visit with an open estimate case: the outcomes come newest first, and the open
        # case on the visit is the near-duplicate candidate.
        outcomes = ("revised", "upheld")
        for n, outcome in enumerate(outcomes, 1):
            visit_id = world.visit(f"RO-{n}")
            created = world.escalate(visit_id, world.diagnosis(f"RO-{n}"))
            assert created.status_code == 201, created.text
            case_id = created.json()["id"]
            body = {"outcome": outcome, "amount_delta": "0", "note": "ok", "version": 1}
            resolved = world.act(case_id, "resolve", "kari@example.no", body)
            assert resolved.status_code == 200, resolved.text
            world.clock.advance(timedelta(hours=1))
        visit_id = world.visit("RO-3")
        world.revise("estimates", _estimate_body("1000.00"), "RO-3")
        raised = world.revise("estimates", _estimate_body("5000.00"), "RO-3")
        open_case = world.escalate(visit_id, raised, category="estimate")
        assert open_case.status_code == 201, open_case.text
        third = world.escalate(visit_id, world.diagnosis("RO-3"))
        assert third.status_code == 201, third.text

        facts = _facts(session)[-1]
        assert facts["recent_outcomes"] == ["upheld", "revised"]
        assert facts["last_outcome_at"] is not None
        assert facts["cases_last_365_days"] == 3
        assert facts["similar_case_id"] == open_case.json()["id"]
        assert facts["open_case_id"] is None  # another category: not the same case
        assert 0 < facts["similarity"] < 0.85


class TestSimilarity:
    def test_plain_drops_exactly_what_is_neither_alphanumeric_nor_space(self) -> None:
        # _plain's one regular expression against the per-character rule it stands for,
        # over every code point.
        every = "".join(map(chr, range(0x110000)))
        kept = "".join(c for c in every if c.isalnum() or c.isspace())
        assert _PUNCTUATION.sub("", every) == kept

    def test_case_accents_and_punctuation_do_not_count(self) -> None:
        assert similarity("Bremsene  svikter!", "bremsene svikter") == 1.0
        assert similarity("Café, crème_", "cafe creme") == 1.0
        assert similarity("abc", "xyz") == 0.0
        assert 0 < similarity("the brakes fail", "the brakes squeal") < 1


class TestReadInOneRoundTrip:
    """On PostgreSQL a request's reads go straight through psycopg in one pipeline
    (direkte.direct); they must read exactly what SQLAlchemy's statements read."""

    def _both(self, session: Session, monkeypatch: Any, **request: Any) -> tuple[Any, Any]:
        from direkte import direct
        from direkte.escalations.facts import read_request

        if not direct.supported(session):
            import pytest

            pytest.skip("the one-round-trip read is PostgreSQL's")
        with monkeypatch.context() as patched:
            patched.setattr(direct, "supported", lambda _session: False)
            core = read_request(session, lock=True, **request)
        session.expunge_all()  # the piped read makes its own objects
        return read_request(session, lock=True, **request), core

    @staticmethod
    def _plain(read: Any) -> dict[str, Any]:
        from direkte.escalations.facts import _CENTER_ATTRS, _VISIT_ATTRS

        return {
            "visit": {a: getattr(read.visit, a) for a in _VISIT_ATTRS},
            "center": {a: getattr(read.visit.center, a) for a in _CENTER_ATTRS},
            "policy": read.policy,
            "staff": read.staff,
            "subject": [tuple(r) for r in read.subject_rows],
            "open": [tuple(r) for r in read.open_rows],
        }

    def test_every_category_reads_the_same(
        self, world: World, session: Session, monkeypatch: Any
    ) -> None:
        from direkte.escalations.models import Category
        from direkte.network.models import User

        world.visit("RO-0", **EARLIER_VISIT)
        visit_id = world.visit("RO-1", vehicle=_vehicle(BASIC, BATTERY))
        _diagnosis(world, ["P0300"], safety=False)
        diagnosis = _diagnosis(world, ["C1101"], safety=True)
        _estimate(world, "1000.00")
        estimate = _estimate(world, "5000.00")
        warranty = _warranty(world)
        assert world.escalate(visit_id, diagnosis).status_code == 201  # an open case
        customer = session.scalars(sa.select(User).where(User.email == "ola@example.no")).one()
        subjects = {
            Category.diagnosis: diagnosis,
            Category.estimate: estimate,
            Category.warranty: warranty,
        }
        for category, subject_id in subjects.items():
            piped, core = self._both(
                session,
                monkeypatch,
                visit_id=visit_id,
                customer=customer,
                category=category,
                subject_id=subject_id,
                now=world.clock.now(),
            )
            assert self._plain(piped) == self._plain(core), category
            assert piped.subject_rows
            assert piped.open_rows
            assert piped.staff.local is not None
            assert piped.staff.regional is not None
            # The visit is the ORM's own object: clean, and what was not read loads.
            assert piped.visit in session
            assert not session.dirty
            assert piped.visit.concern == "Grinding noise from the front brakes"

    def test_another_customers_visit_is_not_read(
        self, world: World, session: Session, monkeypatch: Any
    ) -> None:

        piped, core = self._both(
            session, monkeypatch, **_diagnosis_request(world, session, "eva@example.no")
        )
        assert piped is None
        assert core is None

    def test_the_reads_keep_one_plan_on_postgresql(self, world: World, session: Session) -> None:
        """The statements' constants (the open statuses, the managers' roles) are in their
        SQL, so PostgreSQL plans each read once for any visit and keeps that plan after
        its five trial runs; with them as parameters the managers' read was planned again
        at every run in the benchmark (0.38 ms of the database's CPU a create). On these
        few rows PostgreSQL keeps the plan either way: what fails without the change is
        the statement's parameters ($1 to $6 where only the visit's id is one)."""
        import pytest

        from direkte import direct
        from direkte.escalations.facts import read_request

        if not direct.supported(session):
            pytest.skip("prepared statements and their plans are PostgreSQL's")
        request = _diagnosis_request(world, session, "ola@example.no")
        for _ in range(8):  # on the test's one connection, where psycopg keeps them
            read = read_request(session, lock=True, **request)
            assert read is not None
            assert read.staff.local is not None
            session.commit()
        plans = session.execute(
            sa.text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        ).all()
        managers = [p for p in plans if "AS open_cases" in p.statement]
        assert len(managers) == 1, [p.statement[:80] for p in plans]
        assert managers[0].generic_plans >= 2
        assert managers[0].custom_plans <= 5
        assert "%(" not in managers[0].statement
        assert "$2" not in managers[0].statement
