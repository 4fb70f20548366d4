"""Who may call what, proven: every operation of the API against every kind of caller.

The table below has one entry per operation id of ``/openapi.json``; a new endpoint
without an entry fails ``test_every_operation_has_an_entry``. Each test runs one
operation for every caller, refusals first: a refused caller must get exactly the
status and error code of docs/architecture.md's "Access" table (a foreign object is
404, never 403); an allowed caller must not be refused (401, 403 or 404), whatever
the case's state then makes of the request (a 409 on a case another allowed caller
already acknowledged is not a refusal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from httpx import Response
from sqlalchemy.orm import Session

from direkte.analytics.models import RolloutWave
from direkte.network.models import Program, User
from direkte.notifications.models import (
    Channel,
    Delivery,
    Notification,
    OutboxEvent,
    Webhook,
)
from direkte.notifications.service import deliver_pending
from tests.escalations.conftest import Case, World
from tests.factories import PASSWORD, visit_body

CALLERS = {
    "owner": "ola@example.no",
    "other_customer": "eva@example.no",
    "advisor": "siv@example.no",
    "local_manager": "kari@example.no",
    "other_center_manager": "mette@example.dk",
    "regional_manager": "lars@example.no",
    "other_regional_manager": "dorte@example.dk",
    "ops": "ops@example.no",
}
ALL = (*CALLERS, "anonymous", "api_key")
USERS = tuple(CALLERS)
CUSTOMERS = ("owner", "other_customer")
STAFF = tuple(c for c in USERS if c not in CUSTOMERS)
OUTSIDE = ("other_center_manager", "other_regional_manager")  # staff who may not see it
NO_USER = {"anonymous": (401, "not_authenticated"), "api_key": (401, "not_authenticated")}


@dataclass(frozen=True)
class Rule:
    """Who is allowed; everyone else gets the refusal named for them."""

    allowed: tuple[str, ...]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


def _same(callers: tuple[str, ...], status: int, code: str) -> dict[str, tuple[int, str]]:
    return dict.fromkeys(callers, (status, code))


def customer_only(not_found: str) -> Rule:
    return Rule(
        ("owner",),
        {
            "other_customer": (404, not_found),
            **_same(STAFF, 403, "customers_only"),
            **NO_USER,
        },
    )


def readable(not_found: str) -> Rule:
    return Rule(
        ("owner", "advisor", "local_manager", "regional_manager", "ops"),
        {**_same(("other_customer", *OUTSIDE), 404, not_found), **NO_USER},
    )


STAFF_CASE = Rule(
    ("local_manager", "regional_manager"),
    {
        **_same(CUSTOMERS, 403, "staff_only"),
        **_same(("advisor", "ops"), 403, "not_case_handler"),
        **_same(OUTSIDE, 404, "escalation_not_found"),
        **NO_USER,
    },
)
MESSAGE = Rule(
    ("owner", "local_manager", "regional_manager"),
    {
        "other_customer": (404, "escalation_not_found"),
        **_same(("advisor", "ops"), 403, "not_case_handler"),
        **_same(OUTSIDE, 404, "escalation_not_found"),
        **NO_USER,
    },
)
OPS = Rule(("ops",), {**_same(USERS[:-1], 403, "ops_only"), **NO_USER})
INTEGRATION = Rule(("api_key",), _same(("anonymous", *USERS), 401, "not_authenticated"))
ANY_USER = Rule(USERS, NO_USER)
INBOX = Rule(
    tuple(c for c in STAFF if c != "ops"),
    {**_same(CUSTOMERS, 403, "staff_only"), "ops": (403, "staff_only"), **NO_USER},
)

RULES: dict[str, Rule] = {
    "auth_issue_token": Rule(ALL),
    "integration_upsert_visit": INTEGRATION,
    "integration_add_diagnosis": INTEGRATION,
    "integration_add_estimate": INTEGRATION,
    "integration_add_warranty_decision": INTEGRATION,
    "visits_list_my_visits": ANY_USER,
    "visits_get_visit": readable("visit_not_found"),
    "visits_approve_estimate": customer_only("visit_not_found"),
    "escalations_open_escalation": customer_only("visit_not_found"),
    "escalations_get_escalation": readable("escalation_not_found"),
    "escalations_post_message": MESSAGE,
    "escalations_appeal_escalation": customer_only("escalation_not_found"),
    "escalations_withdraw_escalation": customer_only("escalation_not_found"),
    "escalations_rate_escalation": customer_only("escalation_not_found"),
    "escalations_list_inbox": INBOX,
    "escalations_acknowledge_escalation": STAFF_CASE,
    "escalations_resolve_escalation": STAFF_CASE,
    "escalations_add_note": STAFF_CASE,
    "escalations_log_call": STAFF_CASE,
    "moderation_list_held": OPS,
    "moderation_approve_held": OPS,
    "moderation_reject_held": OPS,
    "policy_get_policy": OPS,
    "policy_put_policy": OPS,
    "policy_get_policy_schema": OPS,
    "policy_list_policy_versions": OPS,
    "policy_get_policy_version": OPS,
    "policy_backtest_policy": OPS,
    "privacy_export_customer": Rule(
        ("owner", "ops"),
        {
            "other_customer": (404, "customer_not_found"),
            **_same(STAFF[:-1], 403, "ops_only"),
            **NO_USER,
        },
    ),
    "privacy_export_me": Rule(
        CUSTOMERS,
        {**_same(STAFF[:-1], 403, "ops_only"), "ops": (404, "customer_not_found"), **NO_USER},
    ),
    "privacy_erase_customer": OPS,
    "privacy_list_audit": OPS,
    "notifications_list_notifications": ANY_USER,
    "notifications_read_notification": Rule(
        ("local_manager",),  # Kari's notification of the new case
        {
            **_same(tuple(c for c in USERS if c != "local_manager"), 404, "notification_not_found"),
            **NO_USER,
        },
    ),
    "notifications_set_quiet_hours": Rule(
        ("local_manager", "other_center_manager", "regional_manager", "other_regional_manager"),
        {**_same((*CUSTOMERS, "advisor", "ops"), 403, "managers_only"), **NO_USER},
    ),
    "auth_logout": ANY_USER,
    "auth_change_password": ANY_USER,
    "auth_disable_user": OPS,
    "webhooks_register_webhook": OPS,
    "webhooks_list_webhooks": OPS,
    "webhooks_delete_webhook": OPS,
    "webhooks_list_webhook_deliveries": OPS,
    "webhooks_replay_webhook_delivery": OPS,
    # staff read their own center's or region's figures (no filter: their own), ops any
    "figures_get_metrics": Rule(STAFF, {**_same(CUSTOMERS, 403, "staff_only"), **NO_USER}),
    "figures_get_rollout": OPS,
    "figures_put_rollout": OPS,
    "figures_advance_wave": OPS,
    "figures_get_evaluation": OPS,
}


@dataclass
class Objects:
    """The owner's visit, its diagnosis and estimate, and the open tier-1 case on it."""

    visit_id: int
    diagnosis_id: int
    estimate_id: int
    case_id: int
    customer_id: int
    notification_id: int
    webhook_id: int
    delivery_id: int
    wave_id: int


BODIES: dict[str, Callable[[Objects], Any]] = {
    "integration_upsert_visit": lambda o: visit_body(),
    "integration_add_diagnosis": lambda o: {"findings": "Worn", "codes": ["C1"]},
    "integration_add_estimate": lambda o: {
        "lines": [{"kind": "part", "description": "Pads", "quantity": 1, "unit_price": "10"}],
        "currency": "NOK",
    },
    "integration_add_warranty_decision": lambda o: {
        "decision": "covered",
        "claimed": "100",
        "covered": "100",
        "reason_code": "OK",
    },
    "escalations_open_escalation": lambda o: {
        "category": "diagnosis",
        "subject_id": o.diagnosis_id,
        "reason": "The pads were changed last month",
    },
    "escalations_post_message": lambda o: {"body": "Any news?"},
    "escalations_appeal_escalation": lambda o: {"reason": "Please look again"},
    "escalations_rate_escalation": lambda o: {"score": 4},
    "escalations_resolve_escalation": lambda o: {
        "outcome": "upheld",
        "amount_delta": "0",
        "note": "Stands",
        "version": 1,
    },
    "escalations_add_note": lambda o: {"body": "Checked the invoice"},
    "escalations_log_call": lambda o: {"summary": "Called the customer"},
    "moderation_reject_held": lambda o: {"reason": "Not for us"},
    "auth_change_password": lambda o: {"current": PASSWORD, "new": "a-new-long-passphrase"},
    "notifications_set_quiet_hours": lambda o: {"start": "22:00:00", "end": "06:00:00"},
    "webhooks_register_webhook": lambda o: {
        "url": "https://hooks.example.com/direkte",
        "events": ["escalation.created"],
    },
    "policy_put_policy": lambda o: {"document": {"global": {}}, "version": 0},
    "figures_put_rollout": lambda o: {"waves": []},
    "policy_backtest_policy": lambda o: {
        "policy": {"global": {}},
        "from": "2026-01-01",
        "to": "2026-02-01",
    },
}


def _operations(world: World) -> dict[str, tuple[str, str]]:
    document = world.client.get("/openapi.json").json()
    return {
        op["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }


def test_every_operation_has_an_entry(world: World) -> None:
    assert set(_operations(world)) == set(RULES)


def _objects(world: World, case: Case, session: Session) -> Objects:
    estimate_id = world.estimate()
    ola = session.scalars(sa.select(User.id).where(User.email == CALLERS["owner"])).one()
    deliver_pending(session, now=world.clock.now())
    kari = session.scalars(sa.select(User.id).where(User.email == CALLERS["local_manager"])).one()
    notification = session.scalars(
        sa.select(Notification.id).where(Notification.user_id == kari)
    ).first()
    assert notification is not None
    hook = Webhook(
        url="https://hooks.example.com/a",
        events=["escalation.created"],
        secret="whsec_" + "A" * 32,
        created_at=world.clock.now(),
    )
    session.add(hook)
    session.flush()
    event = session.scalars(sa.select(OutboxEvent.id)).first()
    delivery = Delivery(
        outbox_event_id=event,
        channel=Channel.webhook,
        webhook_id=hook.id,
        created_at=world.clock.now(),
        due_at=None,
        dead_at=world.clock.now(),
        attempts=1,
    )
    session.add(delivery)
    wave = RolloutWave(
        position=0,
        name="Wave 1",
        date=world.clock.now().date(),
        program=Program.pilot,
        center_ids=[],
        gate=[],
        created_at=world.clock.now(),
        updated_at=world.clock.now(),
    )
    session.add(wave)
    session.flush()
    return Objects(
        case.visit_id,
        case.subject_id,
        estimate_id,
        case.id,
        ola,
        notification,
        hook.id,
        delivery.id,
        wave.id,
    )


def _call(
    world: World, caller: str, method: str, path: str, operation: str, objects: Objects
) -> Response:
    url = path.format(
        visit_id=objects.visit_id,
        escalation_id=objects.case_id,
        estimate_id=objects.estimate_id,
        customer_id=objects.customer_id,
        external_id="RO-1",
        version=0,
        notification_id=objects.notification_id,
        webhook_id=objects.webhook_id,
        delivery_id=objects.delivery_id,
        user_id=objects.customer_id,
        wave_id=objects.wave_id,
    )
    headers: dict[str, str] = {}
    if caller == "api_key":
        headers["X-API-Key"] = world.key
    elif caller != "anonymous":
        headers = dict(world.as_(CALLERS[caller]))
    if operation == "auth_issue_token":
        form = {"username": CALLERS.get(caller, CALLERS["owner"]), "password": PASSWORD}
        return world.client.post(url, data=form, headers=headers)
    body = BODIES.get(operation)
    json = body(objects) if body is not None else None
    return world.client.request(method, url, json=json, headers=headers)


@pytest.mark.parametrize("operation", sorted(RULES))
def test_callers_get_what_the_rules_say(
    world: World, case: Case, session: Session, operation: str
) -> None:
    rule = RULES[operation]
    assert set(rule.allowed) | set(rule.refused) == set(ALL), "every caller has an entry"
    method, path = _operations(world)[operation]
    objects = _objects(world, case, session)
    for caller, (status, code) in rule.refused.items():
        response = _call(world, caller, method, path, operation, objects)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (
            caller,
            response.text,
        )
    for caller in rule.allowed:
        response = _call(world, caller, method, path, operation, objects)
        assert response.status_code not in (401, 403, 404), (caller, response.text)
