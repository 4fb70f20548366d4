"""Fixtures for the escalation tests: an HTTP world on the test connection, and a
committed database for the sweeper (which runs in its own sessions and engines)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from direkte.audit.service import Actor
from direkte.clock import FixedClock
from direkte.db import make_engine, make_sessionmaker
from direkte.escalations import service as escalations
from direkte.escalations.models import (
    Category,
    Escalation,
    EscalationMessage,
    EscalationRequest,
)
from direkte.network.models import User
from direkte.network.service import load_network
from direkte.notifications.models import OutboxEvent
from direkte.visits import service as visits
from direkte.visits.schemas import DiagnosisCreate, VisitUpsert
from tests.conftest import T0
from tests.factories import login, make_api_key, make_network, network_doc, visit_body

# ---- helpers -----------------------------------------------------------------------


def error_code(response: Response) -> str:
    return str(response.json()["error"]["code"])


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def row_counts(session: Session) -> dict[str, int]:
    """How many rows the escalation use cases have written, per table."""
    return {
        model.__tablename__: count(session, model)
        for model in (Escalation, EscalationMessage, EscalationRequest, OutboxEvent)
    }


def staff_with(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The factories' staff, with some members' fields changed (by e-mail)."""
    return [{**member, **changes.get(member["email"], {})} for member in network_doc()["staff"]]


# ---- the HTTP world ----------------------------------------------------------------


REASONS = {
    "diagnosis": "The pads were changed last month",
    "estimate": "Nobody called me before the price went up",
    "warranty": "The car is still inside the battery warranty period",
}


@dataclass
class World:
    """The factories' network and an integration key, with helpers to push visits."""

    client: TestClient
    key: str
    clock: FixedClock
    _headers: dict[tuple[str, datetime], dict[str, str]] = field(default_factory=dict)

    def as_(self, email: str) -> dict[str, str]:
        """Bearer headers for ``email``, logged in anew once the clock has moved."""
        at = self.clock.now()
        if (email, at) not in self._headers:
            self._headers[email, at] = login(self.client, email)
        return self._headers[email, at]

    def visit(self, external_id: str = "RO-1", **overrides: Any) -> int:
        response = self.client.put(
            f"/api/v1/integration/visits/{external_id}",
            json=visit_body(**overrides),
            headers={"X-API-Key": self.key},
        )
        assert response.status_code in (200, 201), response.text
        return int(response.json()["id"])

    def revise(self, kind: str, body: dict[str, Any], external_id: str = "RO-1") -> int:
        """Post a revision of the visit (``kind``: diagnoses, estimates or
        warranty-decisions) as the integration does; its id."""
        response = self.client.post(
            f"/api/v1/integration/visits/{external_id}/{kind}",
            json=body,
            headers={"X-API-Key": self.key},
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def estimate(self, external_id: str = "RO-1", total: str = "9000") -> int:
        line = {"kind": "part", "description": "Pads", "quantity": 1, "unit_price": total}
        body = {"lines": [line], "currency": "NOK", "reason": "Pads and discs"}
        return self.revise("estimates", body, external_id)

    def diagnosis(self, external_id: str = "RO-1") -> int:
        body = {"findings": "Pads worn", "codes": ["C1101"], "safety_related": True}
        return self.revise("diagnoses", body, external_id)

    def warranty(self, external_id: str = "RO-1", **decision: Any) -> int:
        """A warranty decision of the visit (``decision``: its fields), as the
        integration posts it."""
        return self.revise("warranty-decisions", decision, external_id)

    def escalate(
        self,
        visit_id: int,
        subject_id: int,
        *,
        email: str = "ola@example.no",
        category: str = "diagnosis",
        reason: str | None = None,
        key: str | None = None,
    ) -> Response:
        # Distinct texts per category: near-identical ones on one visit fold together.
        reason = reason or REASONS[category]
        headers = dict(self.as_(email))
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(
            f"/api/v1/visits/{visit_id}/escalations",
            json={"category": category, "subject_id": subject_id, "reason": reason},
            headers=headers,
        )

    def act(
        self, case_id: int, action: str, email: str, body: dict[str, Any] | None = None
    ) -> Response:
        return self.client.post(
            f"/api/v1/escalations/{case_id}/{action}", json=body, headers=self.as_(email)
        )

    def get(self, case_id: int, email: str) -> Response:
        return self.client.get(f"/api/v1/escalations/{case_id}", headers=self.as_(email))


@pytest.fixture
def world(client: TestClient, session: Session, clock: FixedClock) -> World:
    make_network(session, clock)
    return World(client=client, key=make_api_key(session, clock), clock=clock)


@dataclass
class Case:
    id: int
    visit_id: int
    subject_id: int
    body: dict[str, Any]


@pytest.fixture
def case(world: World) -> Case:
    """Ola's diagnosis case at OSL-01, opened at T0 (10:00 Oslo, Wednesday); the visit's
    estimate (9,000 NOK, pushed after the case opened) is the money in dispute."""
    visit_id = world.visit()
    subject_id = world.diagnosis()
    response = world.escalate(visit_id, subject_id)
    assert response.status_code == 201, response.text
    world.estimate()
    body = response.json()
    return Case(id=int(body["id"]), visit_id=visit_id, subject_id=subject_id, body=body)


# ---- a committed database for the sweeper -----------------------------------------


@dataclass
class Committed:
    """A fresh database with the factories' network; each step commits for real."""

    url: str
    engine: Engine
    factory: sessionmaker[Session]

    def user_id(self, email: str) -> int:
        with self.factory() as session:
            return int(session.scalars(sa.select(User.id).where(User.email == email)).one())

    def visit(self, external_id: str, at: datetime = T0, **overrides: Any) -> tuple[int, int]:
        """A checked-in visit with one diagnosis; returns (visit id, diagnosis id)."""
        clock = FixedClock(at)
        actor = Actor("api_key", None, "test")
        body = visit_body(**overrides)
        with self.factory() as session:
            visit, _ = visits.upsert_visit(
                session,
                clock,
                external_id=external_id,
                data=VisitUpsert.model_validate(body),
                actor=actor,
            )
            diagnosis = visits.add_diagnosis(
                session,
                clock,
                external_id=external_id,
                data=DiagnosisCreate(findings="Pads worn", codes=["C1101"], safety_related=True),
                actor=actor,
            )
            session.commit()
            return visit.id, diagnosis.id

    def open_case(self, external_id: str, at: datetime = T0) -> int:
        """Ola escalates the diagnosis of a new visit at ``at``; returns the case id."""
        visit_id, diagnosis_id = self.visit(external_id, at)
        with self.factory() as session:
            ola = session.scalars(sa.select(User).where(User.email == "ola@example.no")).one()
            opened = escalations.open_escalation(
                session,
                FixedClock(at),
                viewer=ola,
                visit_id=visit_id,
                category=Category.diagnosis,
                subject_id=diagnosis_id,
                reason="The pads were changed last month",
            )
            assert opened.escalation is not None
            case_id = opened.escalation.id
            session.commit()
            return case_id

    def staff_message(self, case_id: int, at: datetime, *, await_customer: bool) -> None:
        with self.factory() as session:
            kari = session.scalars(sa.select(User).where(User.email == "kari@example.no")).one()
            escalations.post_message(
                session,
                FixedClock(at),
                viewer=kari,
                escalation_id=case_id,
                body="Could you send a photo of the invoice?",
                await_customer=await_customer,
            )
            session.commit()


@pytest.fixture
def committed(cli_env: str) -> Iterator[Committed]:
    engine = make_engine(cli_env)
    factory = make_sessionmaker(engine)
    with factory() as session:
        load_network(session, FixedClock(T0), raw=network_doc(), actor=Actor.system("test"))
        session.commit()
    try:
        yield Committed(url=cli_env, engine=engine, factory=factory)
    finally:
        engine.dispose()
