"""The history generator: recorded requests decided by the default policy, with cases."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session

from direkte.analytics.backtest import run_backtest
from direkte.audit.service import Actor
from direkte.cli import main
from direkte.clock import FixedClock
from direkte.db import make_engine, make_sessionmaker
from direkte.demo.history import NoDemoVisits, load_history
from direkte.escalations.models import Escalation, EscalationRequest
from direkte.guardrails.engine import Facts, evaluate
from direkte.guardrails.policy import DEFAULT_POLICY, default_document
from direkte.network.service import load_network
from direkte.visits import service as visits
from direkte.visits.schemas import DiagnosisCreate, EstimateCreate, EstimateLineIn, VisitUpsert
from tests.conftest import T0
from tests.factories import network_doc, visit_body


def make_visits(session: Session, clock: FixedClock) -> None:
    """The factories' network and two visits with a diagnosis and an estimate. Commits."""
    load_network(session, clock, raw=network_doc(), actor=Actor.system("test"))
    actor = Actor("api_key", None, "test")
    for n, center in enumerate(("OSL-01", "CPH-01")):
        external_id = f"RO-{n}"
        body = visit_body(center=center, customer_email="ola@example.no")
        visits.upsert_visit(
            session,
            clock,
            external_id=external_id,
            data=VisitUpsert.model_validate(body),
            actor=actor,
        )
        visits.add_diagnosis(
            session,
            clock,
            external_id=external_id,
            actor=actor,
            data=DiagnosisCreate(findings="Pads worn", codes=["C1101"], safety_related=False),
        )
        visits.add_estimate(
            session,
            clock,
            external_id=external_id,
            actor=actor,
            data=EstimateCreate(
                lines=[
                    EstimateLineIn(kind="part", description="Pads", quantity="1", unit_price="1000")
                ],
                reason="Initial estimate",
                approved=True,
            ),
        )
    session.commit()


def _count(session: Session, model: type[EscalationRequest] | type[Escalation]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


class TestLoadHistory:
    def test_requests_are_decided_by_the_default_policy(
        self, session: Session, clock: FixedClock
    ) -> None:
        make_visits(session, clock)
        made = load_history(session, requests=400, now=T0, seed=3)
        session.flush()
        assert made["requests"] == 400 == _count(session, EscalationRequest)
        assert made["escalations"] == _count(session, Escalation)
        rows = session.execute(sa.select(EscalationRequest)).scalars().all()
        kinds: Counter[str] = Counter()
        for row in rows:
            decision = evaluate(DEFAULT_POLICY, Facts.from_json(row.facts), row.created_at)
            assert (row.decision, row.tier) == (decision.decision, decision.tier)
            assert row.policy_version == "0"
            assert T0 - timedelta(days=366) <= row.created_at < T0
            assert (row.escalation_id is None) == (row.decision == "reject")
            kinds[row.decision] += 1
            kinds[f"{row.category}"] += 1
        assert min(kinds[k] for k in ("route", "reject", "diagnosis", "estimate")) > 0
        outcomes = Counter(
            o.value if o else None for o in session.scalars(sa.select(Escalation.outcome))
        )
        assert min(outcomes[k] for k in ("upheld", "revised", "goodwill")) > 0

    def test_backtest_of_the_default_policy_matches_the_record(
        self, session: Session, clock: FixedClock
    ) -> None:
        make_visits(session, clock)
        load_history(session, requests=300, now=T0, seed=5)
        session.flush()
        report = run_backtest(
            session,
            candidate_document=default_document(),
            current_document=default_document(),
            current_version="0",
            date_from=T0 - timedelta(days=400),
            date_to=T0,
        )
        recorded = Counter(session.scalars(sa.select(EscalationRequest.decision)))
        assert report.requests == 300
        assert report.current.decisions == {k: recorded[k] for k in report.current.decisions}
        assert report.candidate.reached == report.current.reached
        assert report.difference.newly_deflected == report.difference.newly_reached == 0

    def test_without_visits_it_refuses(self, session: Session) -> None:
        with pytest.raises(NoDemoVisits):
            load_history(session, requests=10, now=T0)


def test_command_adds_history(cli_env: str) -> None:
    engine = make_engine(cli_env)
    factory = make_sessionmaker(engine)
    with factory() as session:
        make_visits(session, FixedClock(T0))
    result = CliRunner().invoke(main, ["demo", "history", "--requests", "250", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["requests"] == 250
    with factory() as session:
        assert _count(session, EscalationRequest) == 250
    engine.dispose()


def test_command_without_demo_fails(cli_env: str) -> None:
    del cli_env
    result = CliRunner().invoke(main, ["demo", "history", "--requests", "5"])
    assert result.exit_code == 1
    assert "load the demo" in result.output
