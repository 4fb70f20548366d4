"""A crafted history of recorded requests whose backtest figures are known exactly.

Eleven requests at OSL-01 (Europe/Oslo; Kari is the local manager, Per her
deputy, Lars the regional manager), nine of them estimate requests of kind
``create`` inside 2026-11-01..2026-11-18. The candidate policy raises the
estimate bar for NOK from 2000 to 5000: requests 1-3 (increases of 3000, 4000
and 2500) drop from tier 1 to tier 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.audit.service import Actor
from direkte.clock import FixedClock
from direkte.escalations.models import (
    Category,
    Escalation,
    EscalationRequest,
    EscalationStatus,
    Outcome,
)
from direkte.guardrails.engine import Facts, evaluate
from direkte.guardrails.policy import DEFAULT_POLICY, default_document
from direkte.network.models import User
from direkte.network.service import load_network
from direkte.visits import service as visits
from direkte.visits.models import Visit
from direkte.visits.schemas import VisitUpsert
from tests.factories import network_doc, visit_body

DAY1 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
FROM, TO = "2026-11-01", "2026-11-18"


def candidate_document() -> dict[str, Any]:
    document = default_document()
    document["global"]["materiality"]["estimate"]["min_increase"] = {"NOK": "5000"}
    return document


@dataclass(frozen=True)
class Spec:
    at: datetime
    increase: int = 0
    outcome: Outcome | None = None
    program: str = "pilot"
    threat: bool = False
    local_open: int = 0
    fold_into: int | None = None  # index of the spec whose case this request folds into
    kind: str = "create"


SPECS = [
    Spec(DAY1, 3000, Outcome.revised),  # 0: tier 1 -> tier 0, right
    Spec(DAY1 + timedelta(hours=1), 4000, Outcome.goodwill),  # 1: tier 1 -> tier 0, right
    Spec(DAY1 + timedelta(hours=2), 2500, Outcome.upheld),  # 2: tier 1 -> tier 0
    Spec(DAY2, 8000, Outcome.revised),  # 3: tier 1 both
    Spec(DAY2 + timedelta(hours=1), 500, Outcome.revised),  # 4: tier 0 both, right
    Spec(DAY2 + timedelta(hours=2), 8000, None, program="off"),  # 5: rejected both
    Spec(DAY2 + timedelta(hours=3), 8000, Outcome.goodwill, threat=True),  # 6: moderated, right
    Spec(DAY2 + timedelta(hours=4), 8000, fold_into=3),  # 7: folds into 3 (tier 1)
    Spec(DAY1 + timedelta(hours=3), 6000, Outcome.upheld, local_open=20),  # 8: deputy, tier 1
    Spec(DAY2, 8000, Outcome.revised, kind="appeal"),  # 9: an appeal: not read
    Spec(datetime(2026, 10, 1, 9, 0, tzinfo=UTC), 500, Outcome.revised),  # 10: before FROM
]


def _facts(spec: Spec, ids: dict[str, int], open_case: tuple[int, int] | None) -> Facts:
    return Facts(
        kind="create",
        category="estimate",
        program=spec.program,
        visit_status="in_repair",
        visit_checked_in_at=spec.at - timedelta(hours=1),
        visit_closed_at=None,
        subject_id=1,
        subject_belongs=True,
        open_case_id=open_case[0] if open_case else None,
        open_case_tier=open_case[1] if open_case else None,
        currency="NOK",
        first_approved_total="10000.00",
        estimate_total=f"{10000 + spec.increase}.00",
        language="nb",
        threat=spec.threat,
        content_matches=("threat:x",) if spec.threat else (),
        local_manager_id=ids["kari"],
        local_open=spec.local_open,
        deputy_id=ids["per"],
        regional_manager_id=ids["lars"],
    )


def make_history(session: Session, clock: FixedClock) -> dict[str, int]:
    """The network, one visit, and the crafted requests with their cases. Commits."""
    load_network(session, clock, raw=network_doc(), actor=Actor.system("test"))
    ref, _ = visits.upsert_visit(
        session,
        clock,
        external_id="RO-1",
        data=VisitUpsert.model_validate(visit_body()),
        actor=Actor("api_key", None, "test"),
    )
    visit = session.get_one(Visit, ref.id)
    ids = {
        email.split("@")[0]: user_id
        for email, user_id in session.execute(sa.select(User.email, User.id))
    }
    cases: dict[int, tuple[int, int]] = {}
    for n, spec in enumerate(SPECS):
        open_case = cases.get(spec.fold_into) if spec.fold_into is not None else None
        facts = _facts(spec, ids, open_case)
        decision = evaluate(DEFAULT_POLICY, facts, spec.at)
        case_id = open_case[0] if open_case else None
        if spec.outcome is not None:
            case = Escalation(
                visit_id=visit.id,
                customer_id=visit.customer_id,
                center_id=visit.center_id,
                category=Category.estimate,
                subject_id=1,
                reason="Too expensive",
                status=EscalationStatus.resolved,
                tier=decision.tier or 0,
                assignee_id=decision.assignee_id,
                guardrail={},
                version=3,
                created_at=spec.at,
                updated_at=spec.at,
                resolved_at=spec.at + timedelta(hours=2),
                outcome=spec.outcome,
                currency="NOK",
            )
            session.add(case)
            session.flush()
            case_id = case.id
            cases[n] = (case.id, case.tier)
        session.add(
            EscalationRequest(
                created_at=spec.at,
                kind=spec.kind,
                visit_id=visit.id,
                customer_id=visit.customer_id,
                center_id=visit.center_id,
                category="estimate",
                subject_id=1,
                reason="Too expensive",
                facts=facts.as_json(),
                decision=decision.decision,
                tier=decision.tier,
                policy_version="0",
                result=decision.as_json(),
                escalation_id=case_id,
                folded=decision.folded_into is not None,
            )
        )
    session.commit()
    return ids
