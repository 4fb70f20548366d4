"""The escalation lifecycle end to end, through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.audit.models import AuditEvent
from direkte.clock import FixedClock
from direkte.escalations import appends, opening
from direkte.escalations.models import (
    Escalation,
    EscalationEvent,
    EscalationMessage,
    EscalationRequest,
)
from direkte.marks import FigureDirtyMark
from direkte.notifications.models import OutboxEvent
from tests.factories import login, make_api_key, make_network, push_visit


@pytest.fixture
def visit(client: TestClient, session: Session, clock: FixedClock) -> dict[str, int]:
    make_network(session, clock)
    key = make_api_key(session, clock)
    visit_id = push_visit(client, key)
    diagnosis = client.post(
        "/api/v1/integration/visits/RO-1/diagnoses",
        json={"findings": "Pads worn", "codes": ["C1101"], "safety_related": True},
        headers={"X-API-Key": key},
    )
    estimate = client.post(  # the money in dispute
        "/api/v1/integration/visits/RO-1/estimates",
        json={
            "lines": [{"kind": "part", "description": "Pads", "quantity": 1, "unit_price": "900"}],
            "currency": "NOK",
            "reason": "Pads",
        },
        headers={"X-API-Key": key},
    )
    assert estimate.status_code == 201, estimate.text
    return {"visit_id": visit_id, "diagnosis_id": diagnosis.json()["id"]}


def test_open_acknowledge_resolve_rate(
    client: TestClient, visit: dict[str, int], clock: FixedClock, session: Session
) -> None:
    customer = login(client, "ola@example.no")
    created = client.post(
        f"/api/v1/visits/{visit['visit_id']}/escalations",
        json={
            "category": "diagnosis",
            "subject_id": visit["diagnosis_id"],
            "reason": "The pads were changed last month",
        },
        headers={**customer, "Idempotency-Key": "k1"},
    )
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["tier"] == 1
    assert case["assignee"] == {"name": "Kari Nordmann", "role": "local_manager"}
    assert case["guardrail"]["decision"] == "route"
    # 10:00 Oslo + 2 business hours
    assert case["sla"]["first_response_due"] == "2026-11-18T11:00:00Z"
    assert case["sla"]["resolution_due"] == "2026-11-18T15:00:00Z"
    retry = client.post(
        f"/api/v1/visits/{visit['visit_id']}/escalations",
        json={
            "category": "diagnosis",
            "subject_id": visit["diagnosis_id"],
            "reason": "The pads were changed last month",
        },
        headers={**customer, "Idempotency-Key": "k1"},
    )
    assert retry.status_code == 201
    assert retry.json()["id"] == case["id"]
    manager = login(client, "kari@example.no")
    inbox = client.get("/api/v1/inbox", headers=manager).json()["items"]
    assert [i["id"] for i in inbox] == [case["id"]]
    assert inbox[0]["context"]["diagnosis_codes"] == ["C1101"]
    ack = client.post(f"/api/v1/escalations/{case['id']}/acknowledge", headers=manager)
    assert ack.status_code == 200, ack.text
    clock.advance(timedelta(hours=1))
    stale = client.post(
        f"/api/v1/escalations/{case['id']}/resolve",
        headers=manager,
        json={"outcome": "upheld", "amount_delta": "0", "note": "ok", "version": 1},
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_version"
    resolved = client.post(
        f"/api/v1/escalations/{case['id']}/resolve",
        headers=manager,
        json={
            "outcome": "goodwill",
            "amount_delta": "-500",
            "note": "ok",
            "version": ack.json()["version"],
        },
    )
    assert resolved.status_code == 200, resolved.text
    rated = client.post(
        f"/api/v1/escalations/{case['id']}/rating", headers=customer, json={"score": 5}
    )
    assert rated.status_code == 201, rated.text
    again = client.post(
        f"/api/v1/escalations/{case['id']}/rating", headers=customer, json={"score": 4}
    )
    assert again.json()["error"]["code"] == "already_rated"
    detail = client.get(f"/api/v1/escalations/{case['id']}", headers=customer).json()
    assert [e["kind"] for e in detail["timeline"]] == [
        "opened",
        "status.acknowledged",
        "status.resolved",
        "rated",
    ]
    topics = session.scalars(sa.select(OutboxEvent.topic).order_by(OutboxEvent.id)).all()
    assert topics == [
        "escalation.opened",
        "escalation.acknowledged",
        "escalation.resolved",
        "escalation.rated",
    ]


def test_a_new_case_is_written_with_the_rows_that_name_it_and_its_dirty_mark(
    client: TestClient, visit: dict[str, int], session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL the seven rows go in one statement (escalations/appends.py), on
    # SQLite one by one: the same rows either way, as long as the opening's rows are
    # what the single statement writes (checked here, not on every request).
    checked: list[appends.NewCase] = []
    marks_before = set(session.execute(sa.select(FigureDirtyMark.id)).scalars())

    def insert_checked(session: Session, rows: appends.NewCase) -> int:
        appends.check_new_case(rows)
        checked.append(rows)
        return appends.insert_new_case(session, rows)

    monkeypatch.setattr(opening, "insert_new_case", insert_checked)
    customer = login(client, "ola@example.no")
    created = client.post(
        f"/api/v1/visits/{visit['visit_id']}/escalations",
        json={
            "category": "diagnosis",
            "subject_id": visit["diagnosis_id"],
            "reason": "The pads were changed last month",
        },
        headers=customer,
    )
    assert created.status_code == 201, created.text
    assert len(checked) == 1
    case_id = created.json()["id"]
    request = session.execute(
        sa.select(
            EscalationRequest.escalation_id, EscalationRequest.decision, EscalationRequest.tier
        )
    ).one()
    assert tuple(request) == (case_id, "route", 1)
    message = session.execute(
        sa.select(
            EscalationMessage.escalation_id, EscalationMessage.author_role, EscalationMessage.body
        )
    ).one()
    assert tuple(message) == (case_id, "customer", "The pads were changed last month")
    event = session.execute(
        sa.select(EscalationEvent.escalation_id, EscalationEvent.kind, EscalationEvent.to_status)
    ).one()
    assert tuple(event) == (case_id, "opened", "open")
    audit = session.execute(
        sa.select(AuditEvent.subject_id, AuditEvent.data).where(
            AuditEvent.action == "escalation.opened"
        )
    ).one()
    assert audit.subject_id == case_id
    assert audit.data["to"] == "open"
    assert audit.data["tier"] == 1
    outbox = session.execute(
        sa.select(OutboxEvent.aggregate_id, OutboxEvent.payload, OutboxEvent.recipients)
    ).one()
    assert outbox.aggregate_id == case_id
    assert outbox.payload == {
        "escalation_id": case_id,
        "status": "open",
        "tier": 1,
        "center_id": outbox.payload["center_id"],
        "safety": outbox.payload["safety"],
    }
    assert len(outbox.recipients) == 1  # the local manager (DESIGN §7a: its assignee)
    case = session.execute(
        sa.select(Escalation.center_id, Escalation.created_at).where(Escalation.id == case_id)
    ).one()
    marks = session.execute(
        sa.select(FigureDirtyMark.center_id, FigureDirtyMark.at).where(
            FigureDirtyMark.id.not_in(marks_before)
        )
    ).all()
    assert [tuple(mark) for mark in marks] == [tuple(case)]  # the figures of its day redone


def test_rows_disagreeing_with_the_case_are_refused_by_the_check() -> None:
    rows = appends.NewCase(
        case={"version": 1, "reason": "A", "outcome": "upheld"},
        request={},
        message={},
        event={},
        audit={},
        outbox={},
    )
    with pytest.raises(ValueError, match="does not set"):
        appends.check_new_case(rows)


def test_the_answer_is_the_models_json(
    client: TestClient, visit: dict[str, int], session: Session
) -> None:
    """The create's answer is made from plain values (no model built): it must be exactly
    what ``EscalationOut`` validates and dumps, for a new case (201) and for a request
    folded into it (200), with and without an Idempotency-Key (whose replay is stored)."""
    from direkte.escalations.schemas import EscalationOut

    customer = login(client, "ola@example.no")
    url = f"/api/v1/visits/{visit['visit_id']}/escalations"
    body = {"category": "diagnosis", "subject_id": visit["diagnosis_id"]}
    created = client.post(
        url, json={**body, "reason": "The pads were changed last month"}, headers=customer
    )
    folded = client.post(
        url,
        json={**body, "reason": "They squeal again after a week"},
        headers={**customer, "Idempotency-Key": "fold-1"},
    )
    replayed = client.post(
        url,
        json={**body, "reason": "They squeal again after a week"},
        headers={**customer, "Idempotency-Key": "fold-1"},
    )
    assert (created.status_code, folded.status_code, replayed.status_code) == (201, 200, 200)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    for answer in (created.json(), folded.json(), replayed.json()):
        assert answer == EscalationOut.model_validate(answer).model_dump(mode="json")
        assert answer["created_at"].endswith("Z")
        assert answer["sla"]["first_response_due"].endswith("Z")
    assert folded.json()["folded"] is True
    assert created.json()["folded"] is False
    assert replayed.json() == folded.json()
