"""Who may act on a case, and what each role sees around it (direkte/access.py; DESIGN §1,
§3, §4): the defects found by probing as an outsider, each pinned here."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.clock import FixedClock
from direkte.escalations import inbox_sql
from direkte.escalations import service as escalations
from direkte.escalations.inbox import EARLIER_VISITS_SHOWN
from direkte.escalations.models import Category, Escalation, EscalationMessage, EscalationStatus
from direkte.escalations.schemas import InboxPage, inbox_item, inbox_page_json
from direkte.money import MoneyOut
from direkte.network.models import User
from tests.conftest import T0
from tests.escalations.conftest import Case, World, error_code
from tests.factories import make_vin

KARI, PER, LARS, SIV, OLA = (
    "kari@example.no",
    "per@example.no",
    "lars@example.no",
    "siv@example.no",
    "ola@example.no",
)
OPS = "ops@example.no"
THREAT = "Fiks bilen, ellers kommer jeg og stikker deg ned"


def resolve(world: World, case_id: int, email: str, **changes: Any) -> Any:
    version = world.get(case_id, OLA).json()["version"]
    body = {"outcome": "revised", "amount_delta": "-500", "note": "Fixed at our cost"}
    return world.act(case_id, "resolve", email, {**body, "version": version, **changes})


def appeal(world: World, case_id: int) -> Any:
    response = world.act(case_id, "appeal", OLA, {"reason": "The regional manager should see"})
    assert response.status_code == 200, response.text
    return response.json()


class TestActingBelongsToTheTier:
    def test_advisor_cannot_act_on_a_tier_1_case(self, world: World, case: Case) -> None:
        for action, body in (("acknowledge", None), ("notes", {"body": "Mine now"})):
            response = world.act(case.id, action, SIV, body)
            assert response.status_code == 403, response.text
            assert error_code(response) == "not_case_handler"
        refused = resolve(world, case.id, SIV, outcome="goodwill", amount_delta="-99999")
        assert refused.status_code == 403
        assert error_code(refused) == "not_case_handler"
        assert world.get(case.id, OLA).json()["status"] == "open"

    def test_deputy_and_regional_manager_may_act(self, world: World, case: Case) -> None:
        assert world.act(case.id, "acknowledge", PER).status_code == 200
        assert resolve(world, case.id, LARS).status_code == 200

    def test_ops_moderate_but_do_not_act(self, world: World, case: Case) -> None:
        assert world.get(case.id, OPS).status_code == 200
        response = world.act(case.id, "acknowledge", OPS)
        assert response.status_code == 403
        assert error_code(response) == "not_case_handler"

    def test_local_manager_cannot_resolve_the_appeal_of_his_outcome(
        self, world: World, case: Case, clock: FixedClock
    ) -> None:
        assert resolve(world, case.id, KARI).status_code == 200
        clock.advance(timedelta(hours=1))
        appealed = appeal(world, case.id)
        assert (appealed["tier"], appealed["assignee"]["name"]) == (2, "Lars Berg")
        response = resolve(world, case.id, KARI, outcome="upheld", amount_delta="0")
        assert response.status_code == 403
        assert error_code(response) == "not_case_handler"
        assert world.get(case.id, OLA).json()["status"] == "open"

    def test_nobody_resolves_an_appeal_against_their_own_outcome(
        self, world: World, case: Case, clock: FixedClock
    ) -> None:
        # The regional manager stepped in at tier 1: the appeal is not given to him (the
        # region has no other regional manager, so it waits unassigned), and he cannot
        # resolve it.
        assert resolve(world, case.id, LARS).status_code == 200
        clock.advance(timedelta(hours=1))
        assert appeal(world, case.id)["assignee"] is None
        response = resolve(world, case.id, LARS, outcome="upheld", amount_delta="0")
        assert response.status_code == 403
        assert error_code(response) == "own_outcome"


class TestMoneyInDispute:
    def test_delta_larger_than_the_estimate_is_refused(self, world: World, case: Case) -> None:
        response = resolve(world, case.id, KARI, outcome="goodwill", amount_delta="-99999")
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
        assert response.json()["error"]["details"][0]["field"] == "amount_delta"
        assert resolve(world, case.id, KARI, outcome="goodwill", amount_delta="-9000").is_success

    def test_nothing_in_dispute_allows_only_upheld(self, world: World) -> None:
        visit_id = world.visit("RO-9")
        opened = world.escalate(visit_id, world.diagnosis("RO-9"))
        case_id = opened.json()["id"]
        refused = resolve(world, case_id, KARI, outcome="goodwill", amount_delta="-1")
        assert refused.status_code == 422
        assert error_code(refused) == "validation_error"
        assert resolve(world, case_id, KARI, outcome="upheld", amount_delta="0").is_success


class TestHeldCases:
    @pytest.fixture
    def held(self, world: World) -> int:
        visit_id, diagnosis_id = world.visit(), world.diagnosis()
        response = world.escalate(visit_id, diagnosis_id, reason=THREAT)
        assert response.json()["status"] == "held"
        return int(response.json()["id"])

    @pytest.mark.parametrize("email", [KARI, PER, SIV, LARS])
    def test_center_staff_neither_read_nor_write_it(
        self, world: World, held: int, email: str
    ) -> None:
        seen = world.get(held, email)
        assert seen.status_code == 404
        assert error_code(seen) == "escalation_not_found"
        response = world.act(held, "messages", email, {"body": "Hello?"})
        assert response.status_code == 404
        assert error_code(response) == "escalation_not_found"

    def test_visit_shows_it_to_the_customer_and_ops_only(self, world: World, held: int) -> None:
        visit_id = world.get(held, OLA).json()["visit_id"]

        def cases(email: str) -> list[int]:
            got = world.client.get(f"/api/v1/visits/{visit_id}", headers=world.as_(email))
            return [c["id"] for c in got.json()["escalations"]]

        assert cases(OLA) == cases(OPS) == [held]
        assert cases(KARI) == []

    @pytest.mark.parametrize("ending", ["reject", "withdraw"])
    def test_never_released_it_stays_hidden_once_ended(
        self, world: World, held: int, ending: str
    ) -> None:
        if ending == "reject":
            response = world.client.post(
                f"/api/v1/moderation/{held}/reject",
                json={"reason": "Threats"},
                headers=world.as_(OPS),
            )
        else:
            response = world.act(held, "withdraw", OLA)
        assert response.status_code == 200, response.text
        for email in (KARI, SIV, LARS):
            assert error_code(world.get(held, email)) == "escalation_not_found"
        assert world.get(held, OLA).status_code == 200

    def test_released_it_is_the_handlers(self, world: World, held: int) -> None:
        released = world.client.post(f"/api/v1/moderation/{held}/approve", headers=world.as_(OPS))
        assert released.status_code == 200, released.text
        assert world.get(held, KARI).status_code == 200
        again = world.client.post(f"/api/v1/moderation/{held}/approve", headers=world.as_(OPS))
        assert again.status_code == 409
        assert error_code(again) == "invalid_transition"

    def test_customer_may_withdraw_but_not_write(self, world: World, held: int) -> None:
        written = world.act(held, "messages", OLA, {"body": "More details"})
        assert written.status_code == 409
        assert error_code(written) == "invalid_transition"
        assert world.act(held, "withdraw", OLA).json()["status"] == "withdrawn"


class TestFolding:
    def test_twenty_identical_requests_add_one_message(
        self, world: World, case: Case, session: Session
    ) -> None:
        for _ in range(20):
            again = world.escalate(case.visit_id, case.subject_id)
            assert again.status_code == 200
            assert again.json()["folded"] is True
        bodies = session.scalars(
            sa.select(EscalationMessage.body).where(EscalationMessage.escalation_id == case.id)
        ).all()
        assert len(bodies) == 1


class TestContext:
    def test_inbox_shows_only_the_customers_own_earlier_visits(self, world: World) -> None:
        vin = make_vin()
        vehicle = {"vin": vin, "model": "Model 3", "model_year": 2021, "odometer_km": 42000}
        # The previous owner's visit, at a center in another region.
        world.visit(
            "RO-OLD",
            center="CPH-01",
            customer_email="eva@example.no",
            vehicle=vehicle,
            concern="Previous owner's private complaint",
            checked_in_at="2026-10-01T08:05:00+02:00",
        )
        world.visit("RO-EARLIER", vehicle=vehicle, concern="Ola's earlier visit")
        visit_id = world.visit("RO-1", vehicle=vehicle)
        assert world.escalate(visit_id, world.diagnosis("RO-1")).status_code == 201
        inbox = world.client.get("/api/v1/inbox", headers=world.as_(KARI)).json()
        earlier = inbox["items"][0]["context"]["earlier_visits"]
        assert [e["concern"] for e in earlier] == ["Ola's earlier visit"]

    def test_contacts_follow_the_policys_window(self, world: World, clock: FixedClock) -> None:
        published = world.client.put(
            "/api/v1/policy",
            json={"document": {"global": {"escalation_window_days": 3}}, "version": 0},
            headers=world.as_(OPS),
        )
        assert published.status_code == 200, published.text
        closed_at = (clock.now() - timedelta(days=10)).isoformat()
        visit_id = world.visit(status="closed", closed_at=closed_at)
        shown = world.client.get(f"/api/v1/visits/{visit_id}", headers=world.as_(OLA)).json()
        assert shown["escalation_contacts"] == []
        recent = world.visit("RO-2", status="closed", closed_at=clock.now().isoformat())
        shown = world.client.get(f"/api/v1/visits/{recent}", headers=world.as_(OLA)).json()
        assert len(shown["escalation_contacts"]) == 2


class TestInboxStatements:
    """A page of the inbox costs the same number of statements whatever its size."""

    def _fill(self, world: World, session: Session, n: int) -> None:
        vehicle = {"vin": make_vin(), "model": "Model 3", "model_year": 2021, "odometer_km": 1}
        kari = session.scalars(sa.select(User).where(User.email == KARI)).one()
        ola = session.scalars(sa.select(User).where(User.email == OLA)).one()
        for i in range(n):
            visit_id = world.visit(f"RO-N{i}", vehicle=vehicle)
            session.add(
                Escalation(
                    visit_id=visit_id,
                    customer_id=ola.id,
                    center_id=kari.center_id,
                    category=Category.diagnosis,
                    subject_id=1,
                    reason=f"Case {i}",
                    status=EscalationStatus.open,
                    tier=1,
                    assignee_id=kari.id,
                    version=1,
                    created_at=T0,
                    updated_at=T0,
                    currency="NOK",
                    guardrail={
                        "decision": "route",
                        "tier": 1,
                        "policy_version": "0",
                        "rules": [],
                        "explanation": "Kari answers",
                    },
                    sla_next_due=T0 + timedelta(hours=i),
                )
            )
        session.flush()

    def _statements(self, world: World, session: Session, limit: int) -> tuple[int, int]:
        headers = world.as_(KARI)
        seen: list[str] = []
        connection = session.connection()

        def count(*args: Any) -> None:
            seen.append(args[2])

        sa.event.listen(connection, "before_cursor_execute", count)
        try:
            page = world.client.get(f"/api/v1/inbox?limit={limit}", headers=headers).json()
        finally:
            sa.event.remove(connection, "before_cursor_execute", count)
        # The per-caller counter (auth/limits.py) is its own transaction outside tests,
        # here a savepoint on the test's connection: not the inbox's statements.
        counter = [i for i, text in enumerate(seen) if "rate_limit_windows" in text]
        dropped = {j for i in counter for j in (i - 1, i, i + 1)}
        return len(page["items"]), len(seen) - len(dropped)

    def test_statements_do_not_grow_with_the_page(self, world: World, session: Session) -> None:
        self._fill(world, session, 50)
        items_5, statements_5 = self._statements(world, session, 5)
        items_50, statements_50 = self._statements(world, session, 50)
        assert (items_5, items_50) == (5, 50)
        assert statements_50 == statements_5
        assert statements_50 <= 12


def _escalate_goodwill(world: World, visit: int) -> None:
    """A partial goodwill warranty decision on RO-2 (1,234.50 claimed, 234.25 covered),
    escalated by the customer of ``visit``."""
    warranty = world.warranty(
        "RO-2",
        decision="goodwill_partial",
        claimed="1234.50",
        covered="234.25",
        reason_code="W-BRAKE.01",
        safety_related=False,
    )
    claim = world.escalate(visit, warranty, category="warranty")
    assert claim.status_code == 201, claim.text


class TestInboxPageJson:
    @pytest.mark.parametrize("microsecond", [0, 500000, 1, 123456])
    def test_the_page_sql_writes_times_as_orjson_does(
        self, session: Session, microsecond: int
    ) -> None:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the page's SQL is PostgreSQL's")
        instant = (T0 + timedelta(hours=5)).replace(microsecond=microsecond)
        built = session.execute(
            sa.text(f"SELECT {inbox_sql.utc_time('CAST(:instant AS timestamptz)')}"),
            {"instant": instant},
        ).scalar_one()
        assert built == orjson.dumps(instant, option=orjson.OPT_UTC_Z).decode().strip('"')

    @pytest.mark.parametrize(
        ("amount", "currency"),
        [
            ("1234.565", "NOK"),
            ("-0.005", "EUR"),
            ("1234.5", "JPY"),
            ("-2.5", "JPY"),
            ("1.23456", "KWD"),
            ("1.00005", "CLF"),
            ("7.125", "BHD"),
        ],
    )
    def test_the_page_sql_rounds_money_to_each_currencys_minor_units(
        self, session: Session, amount: str, currency: str
    ) -> None:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the page's SQL is PostgreSQL's")
        money = inbox_sql.money("CAST(:amount AS numeric)", "CAST(:currency AS varchar)")
        built = session.execute(
            sa.text(f"SELECT ({money})::text"), {"amount": amount, "currency": currency}
        ).scalar_one()
        expected = MoneyOut.of(Decimal(amount), currency).model_dump(mode="json")
        assert orjson.loads(built) == expected

    def test_fast_page_equals_the_validated_models(
        self, world: World, case: Case, session: Session, clock: FixedClock
    ) -> None:
        # A second case with an estimate subject, earlier visits and a revised estimate.
        world.estimate(total="1000")
        kari = session.scalars(sa.select(User).where(User.email == KARI)).one()
        entries = escalations.list_inbox(session, clock, viewer=kari, limit=50, offset=0)
        assert entries
        now = clock.now()
        fast = orjson.loads(inbox_page_json(entries, now=now, viewer=kari, next_cursor="x"))
        typed = InboxPage(
            items=[inbox_item(e, now=now, viewer=kari) for e in entries], next_cursor="x"
        )
        assert fast == typed.model_dump(mode="json")

    def test_the_api_page_equals_the_validated_models(
        self, world: World, case: Case, session: Session, clock: FixedClock
    ) -> None:
        # The API's page is built by PostgreSQL (escalations/inbox_sql.py), on SQLite from
        # rows: both must equal the typed models of list_inbox, on the values that round.
        # The case's visit: 9,000 approved, then 10,102.50 (+12.25 %: half to even, 12.2)
        # and 8,999.99 (-0.0001 %: "-0.0"); a warranty decision with money.
        estimates = [
            int(
                world.client.get(f"/api/v1/visits/{case.visit_id}", headers=world.as_(OLA)).json()[
                    "estimates"
                ][0]["id"]
            )
        ]
        approved = world.client.post(
            f"/api/v1/visits/{case.visit_id}/estimates/{estimates[0]}/approve",
            headers=world.as_(OLA),
        )
        assert approved.status_code == 200, approved.text
        world.estimate(total="10102.50")
        world.estimate(total="8999.99")
        # A second visit of the same car and customer, with its own estimate case, and a
        # third case resolved and appealed (tier 2: the regional manager's inbox).
        second = world.visit("RO-2")
        subject = world.estimate("RO-2", total="400")
        assert world.escalate(second, subject, category="estimate").status_code == 201
        _escalate_goodwill(world, second)
        third = world.visit("RO-3")
        appealed = world.escalate(third, world.diagnosis("RO-3")).json()["id"]
        resolved = resolve(world, appealed, KARI, amount_delta="0", note='Fixed, see "notes": æøå')
        assert resolved.status_code == 200, resolved.text
        clock.advance(timedelta(hours=1))
        appeal(world, appealed)
        for email in (KARI, LARS):
            viewer = session.scalars(sa.select(User).where(User.email == email)).one()
            entries = escalations.list_inbox(session, clock, viewer=viewer, limit=50, offset=0)
            typed = InboxPage(
                items=[inbox_item(e, now=clock.now(), viewer=viewer) for e in entries],
                next_cursor=None,
            )
            # Seven times: PostgreSQL runs the prepared page with its own plan five
            # times, then with the generic plan it keeps.
            for _ in range(7):
                page = world.client.get("/api/v1/inbox?limit=50", headers=world.as_(email))
                assert page.status_code == 200, page.text
                assert page.json() == typed.model_dump(mode="json")
            assert page.json()["items"], email
        percents = [
            e["change_percent"]
            for item in page.json()["items"]
            + world.client.get("/api/v1/inbox?limit=50", headers=world.as_(KARI)).json()["items"]
            for e in item["context"]["estimates"]
        ]
        assert {"12.2", "-0.0"} <= set(percents)
        kari = world.client.get("/api/v1/inbox?limit=50", headers=world.as_(KARI)).json()
        stakes = {item["category"]: item["amount_at_stake"] for item in kari["items"]}
        assert stakes.get("warranty") == {"amount": "1000.25", "currency": "NOK"}

    def test_the_page_writes_its_json_as_json_build_object_does(
        self, world: World, case: Case, session: Session, clock: FixedClock
    ) -> None:
        # The page's JSON is concatenated text (escalations/inbox_sql.py, ``_Json``), its
        # bytes what the API answers: they must be json_build_object's and json_agg's,
        # byte for byte, on every kind of case and on texts that need escaping.
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the page's SQL is PostgreSQL's")
        odd = 'Tab\t"quoted" back\\slash\nnew line \x01 \x1f æøå 😀 </script>'
        vehicle = {"vin": make_vin(), "model": "Model 3", "model_year": 2021, "odometer_km": 7}
        for i in range(3):
            world.visit(f"RO-E{i}", vehicle=vehicle, appointment_date=None)
        second = world.visit("RO-2", vehicle=vehicle)
        world.estimate("RO-2", total="400")
        revised = world.estimate("RO-2", total="12.34")
        assert world.escalate(second, revised, category="estimate").status_code == 201
        _escalate_goodwill(world, second)
        third = world.visit("RO-3")
        appealed = world.escalate(third, world.diagnosis("RO-3")).json()["id"]
        resolved = resolve(world, appealed, KARI, amount_delta="0", note=odd)
        assert resolved.status_code == 200, resolved.text
        clock.advance(timedelta(hours=1))
        appeal(world, appealed)
        # What no flow leaves on an open case, written straight into the rows.
        session.execute(
            sa.text(
                "UPDATE escalations SET reason = :odd, outcome = 'goodwill', amount_delta = NULL,"
                " outcome_note = NULL, outcome_tier = 1, resolved_at = :at, rating_score = 4,"
                " rating_comment = :odd, rated_at = :at, rejection_reason = :odd,"
                " sla_paused_at = :at, first_response_at = :at, assignee_id = NULL"
                " WHERE id = :id"
            ),
            {"odd": odd, "at": T0.replace(microsecond=0), "id": case.id},
        )
        session.execute(
            sa.text(
                "UPDATE escalations SET outcome = 'upheld', amount_delta = -12.345,"
                " outcome_note = :odd, outcome_tier = 1, resolved_at = :at WHERE id = :id"
            ),
            {"odd": odd, "at": T0.replace(microsecond=1), "id": appealed},
        )
        session.execute(
            sa.text("UPDATE users SET name = :odd WHERE email = :email"), {"odd": odd, "email": OLA}
        )
        session.execute(
            sa.text("UPDATE vehicles SET model = :odd, delivery_date = NULL WHERE vin = :vin"),
            {"odd": odd, "vin": vehicle["vin"]},
        )
        session.execute(
            sa.text(
                "UPDATE visits SET concern = :odd || external_id WHERE external_id LIKE 'RO-%'"
            ),
            {"odd": odd},
        )
        driver = session.connection().connection.driver_connection
        assert driver is not None
        seen: dict[int, Any] = {}
        for email in (KARI, LARS, SIV):
            viewer = session.scalars(sa.select(User).where(User.email == email)).one()
            fast, reference = (
                inbox_sql.page_sql(
                    viewer.role, viewer.id, viewer.center_id, viewer.region_id, reference=ref
                )
                for ref in (False, True)
            )
            assert fast != reference
            for status in (None, EscalationStatus.open.value):
                params = {
                    "tier": access.inbox_tier(viewer),
                    "now": clock.now(),
                    "limit": 50,
                    "offset": 0,
                    "status": status,
                    "center": None,
                }
                rows = driver.execute(fast, params, binary=True).fetchall()
                assert rows == driver.execute(reference, params, binary=True).fetchall()
                seen.update({item["id"]: item for item in map(orjson.loads, (r[-1] for r in rows))})
        # Every kind of case was on a page: one per category, one with an outcome and a
        # rating, one without assignee, one appealed; earlier visits with odd texts.
        assert {item["category"] for item in seen.values()} == {"diagnosis", "estimate", "warranty"}
        mine = seen[case.id]
        assert mine["rating"]["comment"] == odd
        assert mine["outcome"]["amount_delta"] == {"amount": "0.00", "currency": "NOK"}
        assert mine["assignee"] is None
        assert seen[appealed]["outcome"]["note"] == odd
        assert seen[appealed]["outcome"]["amount_delta"]["amount"] == "-12.35"
        assert seen[appealed]["appealed"] is True
        stakes = next(item for item in seen.values() if item["category"] == "estimate")
        assert stakes["amount_at_stake"] == {"amount": "-387.66", "currency": "NOK"}
        assert stakes["context"]["vehicle"]["model"] == odd
        assert stakes["context"]["vehicle"]["delivery_date"] is None
        assert stakes["customer"] == odd
        assert [e["concern"] for e in stakes["context"]["earlier_visits"]] == [
            f"{odd}{ro}" for ro in ("RO-3", "RO-E2", "RO-E1", "RO-E0", "RO-1")
        ]


class TestEarlierVisits:
    def test_the_newest_shown_of_the_customers_car_at_or_before_the_visit(
        self, world: World, session: Session, clock: FixedClock
    ) -> None:
        # Both databases' pages (PostgreSQL's statement, SQLite's list_inbox): the same
        # customer's visits of the car that the viewer may see, created at or before the
        # case's visit, the newest EARLIER_VISITS_SHOWN, newest first.
        vehicle = {"vin": make_vin(), "model": "Model Y", "model_year": 2022, "odometer_km": 9}
        shown = EARLIER_VISITS_SHOWN
        for i in range(shown + 2):
            world.visit(f"RO-E{i:02}", vehicle=vehicle, concern=f"earlier {i:02}")
            clock.advance(timedelta(minutes=1))
        world.visit("RO-EVA", vehicle=vehicle, customer_email="eva@example.no", concern="Eva's")
        world.visit("RO-CPH", vehicle=vehicle, center="CPH-01", concern="at another center")
        clock.advance(timedelta(minutes=1))
        visit_id = world.visit("RO-1", vehicle=vehicle)
        clock.advance(timedelta(minutes=1))
        world.visit("RO-LATER", vehicle=vehicle, concern="created after the case's visit")
        assert world.escalate(visit_id, world.diagnosis("RO-1")).status_code == 201
        expected = [f"earlier {i:02}" for i in range(shown + 1, 1, -1)]
        for _ in range(7):  # the prepared statement's own plans, then its generic plan
            page = world.client.get("/api/v1/inbox?limit=50", headers=world.as_(KARI))
            assert page.status_code == 200, page.text
            (item,) = [i for i in page.json()["items"] if i["visit_id"] == visit_id]
            earlier = item["context"]["earlier_visits"]
            assert [e["concern"] for e in earlier] == expected
            assert [e["id"] for e in earlier] == sorted((e["id"] for e in earlier), reverse=True)
