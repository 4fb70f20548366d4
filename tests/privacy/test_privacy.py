"""Export, erase and the audit trail (API.md "Ops"; DESIGN §7b)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session

from direkte.cli import main
from direkte.escalations.models import Escalation, EscalationMessage
from direkte.network.models import User
from direkte.visits.models import Visit
from tests.escalations.conftest import Case, Committed, World, error_code

OLA, EVA, KARI, OPS = "ola@example.no", "eva@example.no", "kari@example.no", "ops@example.no"
REASON = "The pads were changed last month"


def user_id(session: Session, email: str) -> int:
    return int(session.scalars(sa.select(User.id).where(User.email == email)).one())


def shape(session: Session) -> list[Any]:
    """What the figures are computed from: every case's and visit's status and times."""
    cases = session.execute(
        sa.select(
            Escalation.id,
            Escalation.status,
            Escalation.tier,
            Escalation.outcome,
            Escalation.amount_delta,
            Escalation.created_at,
            Escalation.resolved_at,
            Escalation.first_response_at,
            Escalation.rating_score,
        ).order_by(Escalation.id)
    ).all()
    visits = session.execute(
        sa.select(Visit.id, Visit.status, Visit.checked_in_at, Visit.closed_at).order_by(Visit.id)
    ).all()
    return [tuple(r) for r in cases] + [tuple(r) for r in visits]


class TestExport:
    def test_customer_exports_themself(self, world: World, case: Case) -> None:
        response = world.client.get("/api/v1/me/export", headers=world.as_(OLA))
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["customer"]["email"] == OLA
        assert "password_hash" not in document["customer"]
        assert [v["id"] for v in document["visits"]] == [case.visit_id]
        assert [e["reason"] for e in document["escalations"]] == [REASON]
        assert REASON in [m["body"] for m in document["escalation_messages"]]
        assert document["diagnoses"]
        assert document["estimates"]

    def test_only_ops_export_others(self, world: World, case: Case, session: Session) -> None:
        ola = user_id(session, OLA)
        url = f"/api/v1/customers/{ola}/export"
        as_ops = world.client.get(url, headers=world.as_(OPS))
        assert as_ops.status_code == 200
        assert as_ops.json()["customer"]["id"] == ola
        other = world.client.get(url, headers=world.as_(EVA))
        assert other.status_code == 404
        assert error_code(other) == "customer_not_found"
        manager = world.client.get(url, headers=world.as_(KARI))
        assert manager.status_code == 403
        assert error_code(manager) == "ops_only"

    def test_export_is_audited(self, world: World, case: Case, session: Session) -> None:
        world.client.get("/api/v1/me/export", headers=world.as_(OLA))
        audit = world.client.get(
            "/api/v1/audit",
            params={"subject": f"user:{user_id(session, OLA)}"},
            headers=world.as_(OPS),
        ).json()
        assert next(e["action"] for e in audit["items"]) == "customer.exported"


class TestErase:
    def test_identity_and_texts_go_figures_stay(
        self, world: World, case: Case, session: Session
    ) -> None:
        world.act(case.id, "messages", OLA, {"body": "My number is +4740000000"})
        before = shape(session)
        ola = user_id(session, OLA)
        response = world.client.post(f"/api/v1/customers/{ola}/erase", headers=world.as_(OPS))
        assert response.status_code == 200, response.text
        assert response.json()["rows"]["escalations"] == 1
        session.expire_all()
        assert shape(session) == before
        customer = session.get_one(User, ola)
        assert (customer.name, customer.phone, customer.active) == ("Erased customer", None, False)
        assert OLA not in customer.email
        bodies = session.scalars(sa.select(EscalationMessage.body)).all()
        assert set(bodies) == {"[erased]"}
        document = json.dumps(
            world.client.get(f"/api/v1/customers/{ola}/export", headers=world.as_(OPS)).json()
        )
        for secret in (OLA, "Ola Hansen", REASON, "+4740000000", "Grinding noise"):
            at = document.find(secret)
            assert at == -1, document[max(0, at - 300) : at + 50]
        login = world.client.post(
            "/api/v1/auth/token", data={"username": OLA, "password": "irrelevant-x"}
        )
        assert login.status_code == 401

    def test_only_ops_erase(self, world: World, case: Case, session: Session) -> None:
        ola = user_id(session, OLA)
        response = world.client.post(f"/api/v1/customers/{ola}/erase", headers=world.as_(KARI))
        assert response.status_code == 403
        assert error_code(response) == "ops_only"
        unknown = world.client.post("/api/v1/customers/99999/erase", headers=world.as_(OPS))
        assert unknown.status_code == 404
        assert error_code(unknown) == "customer_not_found"


class TestAudit:
    def test_filters_and_refusals(self, world: World, case: Case, session: Session) -> None:
        ops = world.as_(OPS)
        by_ola = world.client.get("/api/v1/audit", params={"actor": OLA}, headers=ops).json()
        assert by_ola["items"]
        assert {e["actor_label"] for e in by_ola["items"]} == {OLA}
        page = world.client.get("/api/v1/audit", params={"limit": 1}, headers=ops).json()
        assert len(page["items"]) == 1
        assert page["next_cursor"]
        following = world.client.get(
            "/api/v1/audit", params={"limit": 1, "cursor": page["next_cursor"]}, headers=ops
        ).json()
        assert following["items"][0]["id"] < page["items"][0]["id"]
        refused = world.client.get("/api/v1/audit", headers=world.as_(KARI))
        assert refused.status_code == 403
        assert error_code(refused) == "ops_only"
        bad = world.client.get("/api/v1/audit", params={"subject": "user:x"}, headers=ops)
        assert bad.status_code == 422
        assert error_code(bad) == "validation_error"


class TestCommands:
    def test_export_and_erase_by_email(self, committed: Committed) -> None:
        committed.open_case("RO-77")
        runner = CliRunner()
        exported = runner.invoke(main, ["customer", "export", OLA])
        assert exported.exit_code == 0, exported.output
        assert json.loads(exported.output)["customer"]["email"] == OLA
        erased = runner.invoke(main, ["customer", "erase", OLA, "--yes"])
        assert erased.exit_code == 0, erased.output
        again = runner.invoke(main, ["customer", "export", OLA])
        assert again.exit_code == 1
        assert "no customer" in again.output
