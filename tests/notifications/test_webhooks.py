"""Webhooks: registration (ops only, the secret once, checked URLs and events),
signed calls to a real HTTP receiver on 127.0.0.1 verified per the Standard Webhooks
spec, retries with the same webhook-id, no redirects, a 5 s timeout that holds up no
other call, dead letters after 24 hours, every attempt listed, and replay."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from direkte.api.app import create_app
from direkte.clock import FixedClock
from direkte.config import Settings
from direkte.jobs.sending import Outbound, send_due
from direkte.jobs.sweeps import deliver_outbox
from direkte.notifications.models import Delivery
from tests.conftest import T0
from tests.factories import login
from tests.notifications.conftest import Committed, Receiver

OUTBOUND = Outbound(allow_private=True)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks check, written from the spec."""
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(sig.partition(",")[2], expected)
        for sig in headers["webhook-signature"].split()
        if sig.startswith("v1,")
    )


class Api:
    def __init__(self, db: Committed, tmp_path: Path, *, allow_private: bool) -> None:
        settings = Settings(
            secret_key="test-secret-key-0123456789-abcdefghijklmnop",
            data_dir=tmp_path,
            webhook_allow_private=allow_private,
        )
        app = create_app(settings, sessionmaker_=db.factory, clock=FixedClock(T0))
        self.client = TestClient(app, raise_server_exceptions=False)
        self.ops = login(self.client, "ops@example.no")

    def register(self, url: str, events: list[str] | None = None) -> Any:
        return self.client.post(
            "/api/v1/webhooks",
            json={"url": url, "events": events or ["escalation.created"]},
            headers=self.ops,
        )

    def attempts(self, hook_id: int) -> list[dict[str, Any]]:
        page = self.client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=self.ops)
        assert page.status_code == 200, page.text
        return list(page.json()["items"])


@pytest.fixture
def api(committed: Committed, tmp_path: Path) -> Api:
    return Api(committed, tmp_path, allow_private=True)


def run(db: Committed, at: datetime) -> None:
    deliver_outbox(db.factory, now=at, channels=OUTBOUND.channels)
    send_due(db.factory, now=at, outbound=OUTBOUND)


def due_at(db: Committed) -> datetime | None:
    with db.factory() as session:
        return session.scalar(sa.select(sa.func.min(Delivery.due_at)))


class TestRegister:
    def test_ops_get_the_secret_once(self, api: Api, receiver: Receiver) -> None:
        created = api.register(receiver.url(), ["escalation.created", "escalation.resolved"])

        assert created.status_code == 201, created.text
        body = created.json()
        assert body["secret"].startswith("whsec_")
        assert len(base64.b64decode(body["secret"][6:])) == 24
        assert body["events"] == ["escalation.created", "escalation.resolved"]
        [listed] = api.client.get("/api/v1/webhooks", headers=api.ops).json()["items"]
        assert listed["id"] == body["id"]
        assert "secret" not in listed

    def test_not_ops_is_403(self, api: Api, receiver: Receiver) -> None:
        kari = login(api.client, "kari@example.no")
        answer = api.client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url(), "events": ["escalation.created"]},
            headers=kari,
        )
        assert (answer.status_code, answer.json()["error"]["code"]) == (403, "ops_only")
        assert api.client.get("/api/v1/webhooks", headers=kari).status_code == 403

    def test_an_unknown_event_is_422(self, api: Api, receiver: Receiver) -> None:
        answer = api.register(receiver.url(), ["escalation.created", "case.exploded"])
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "unknown_event")
        assert answer.json()["error"]["details"][0]["field"] == "events"

    @pytest.mark.parametrize(
        "url",
        [
            "http://example.com/hook",  # not https
            "https://127.0.0.1/hook",  # loopback
            "https://10.1.2.3/hook",  # private
            "https://169.254.169.254/latest",  # link-local (cloud metadata)
            "https://no-such-host.invalid/hook",  # does not resolve
            "ftp://example.com/",
        ],
    )
    def test_a_private_or_unsafe_url_is_422_in_production(
        self, committed: Committed, tmp_path: Path, url: str
    ) -> None:
        strict = Api(committed, tmp_path, allow_private=False)
        answer = strict.register(url)
        assert (answer.status_code, answer.json()["error"]["code"]) == (
            422,
            "invalid_webhook_url",
        ), answer.text

    def test_delete_stops_it(self, api: Api, receiver: Receiver) -> None:
        hook = api.register(receiver.url()).json()
        deleted = api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=api.ops)
        assert deleted.status_code == 204
        assert api.client.get("/api/v1/webhooks", headers=api.ops).json()["items"] == []
        gone = api.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=api.ops)
        assert (gone.status_code, gone.json()["error"]["code"]) == (404, "webhook_not_found")


class TestDelivery:
    def test_a_new_case_is_posted_signed_with_the_customers_view(
        self, api: Api, committed: Committed, receiver: Receiver
    ) -> None:
        hook = api.register(receiver.url()).json()
        case_id = committed.open_case("RO-W1")

        run(committed, T0 + timedelta(seconds=1))

        [(path, headers, body)] = receiver.requests
        assert path == "/hook"
        assert verify(hook["secret"], headers, body)
        assert headers["webhook-timestamp"] == str(int((T0 + timedelta(seconds=1)).timestamp()))
        document = json.loads(body)
        assert document["type"] == "escalation.created"
        assert document["data"]["escalation"]["id"] == case_id
        assert document["data"]["escalation"]["notes"] is None  # the customer's view
        [attempt] = api.attempts(hook["id"])
        assert (attempt["status"], attempt["response_code"], attempt["dead_lettered"]) == (
            "delivered",
            200,
            False,
        )
        run(committed, T0 + timedelta(hours=1))
        assert len(receiver.requests) == 1

    def test_an_unsubscribed_event_is_not_sent(
        self, api: Api, committed: Committed, receiver: Receiver
    ) -> None:
        api.register(receiver.url(), ["escalation.resolved"])
        committed.open_case("RO-W2")
        run(committed, T0 + timedelta(seconds=1))
        assert receiver.requests == []

    def test_a_failure_is_retried_with_the_same_id_and_body(
        self, api: Api, committed: Committed, receiver: Receiver
    ) -> None:
        hook = api.register(receiver.url()).json()
        receiver.statuses = [500]
        committed.open_case("RO-W3")
        run(committed, T0 + timedelta(seconds=1))
        [failed] = api.attempts(hook["id"])
        assert (failed["status"], failed["response_code"]) == ("failed", 500)
        retry_at = datetime.fromisoformat(failed["next_attempt_at"])
        assert retry_at > T0 + timedelta(seconds=1)

        run(committed, retry_at)

        first, second = receiver.requests
        assert first[1]["webhook-id"] == second[1]["webhook-id"]
        assert first[2] == second[2]
        assert verify(hook["secret"], second[1], second[2])
        assert [a["status"] for a in api.attempts(hook["id"])] == ["delivered", "failed"]

    def test_a_redirect_is_not_followed(
        self, api: Api, committed: Committed, receiver: Receiver
    ) -> None:
        hook = api.register(receiver.url()).json()
        receiver.statuses = [302]
        committed.open_case("RO-W4")
        run(committed, T0 + timedelta(seconds=1))
        assert len(receiver.requests) == 1
        [attempt] = api.attempts(hook["id"])
        assert (attempt["status"], attempt["response_code"]) == ("failed", 302)

    def test_after_24_hours_of_failures_it_is_dead_lettered_and_ops_can_replay_it(
        self, api: Api, committed: Committed, receiver: Receiver
    ) -> None:
        hook = api.register(receiver.url()).json()
        receiver.status = 503
        committed.open_case("RO-W5")
        at = T0 + timedelta(seconds=1)
        run(committed, at)
        while (next_at := due_at(committed)) is not None:
            at = next_at
            run(committed, at)
        assert at - T0 <= timedelta(hours=24)
        tries = api.attempts(hook["id"])
        assert tries[0]["status"] == "dead_lettered"
        assert tries[0]["dead_lettered"] is True
        assert tries[0]["next_attempt_at"] is None
        assert all(t["status"] == "failed" for t in tries[1:])
        assert len(tries) > 8  # exponential backoff: many tries in the first hours
        gaps = [
            datetime.fromisoformat(b["at"]) - datetime.fromisoformat(a["at"])
            for a, b in zip(tries[::-1], tries[-2::-1], strict=False)
        ]
        assert gaps[-1] > gaps[0] * 8

        receiver.status = 200
        replay = api.client.post(
            f"/api/v1/webhooks/{hook['id']}/deliveries/{tries[0]['delivery_id']}/replay",
            headers=api.ops,
        )
        assert replay.status_code == 200, replay.text
        run(committed, T0 + timedelta(days=2))
        assert api.attempts(hook["id"])[0]["status"] == "delivered"
        again = api.client.post(
            f"/api/v1/webhooks/{hook['id']}/deliveries/{tries[0]['delivery_id']}/replay",
            headers=api.ops,
        )
        assert (again.status_code, again.json()["error"]["code"]) == (409, "not_dead_lettered")

    def test_a_slow_target_times_out_without_holding_up_the_others(
        self, api: Api, committed: Committed, receiver: Receiver
    ) -> None:
        slow = Receiver()
        slow.delay = 7.0
        slow.thread.start()
        try:
            fast_hook = api.register(receiver.url()).json()
            slow_hook = api.register(slow.url()).json()
            for n in range(3):
                committed.open_case(f"RO-S{n}")
            started = time.monotonic()
            run(committed, T0 + timedelta(seconds=1))
            took = time.monotonic() - started
        finally:
            slow.server.shutdown()
            slow.server.server_close()
        assert took < 6.5  # the three slow calls ran side by side, each cut at 5 s
        assert [a["status"] for a in api.attempts(fast_hook["id"])] == ["delivered"] * 3
        slow_tries = api.attempts(slow_hook["id"])
        assert [a["status"] for a in slow_tries] == ["failed"] * 3
        assert all("Timeout" in (a["error"] or "") for a in slow_tries)
