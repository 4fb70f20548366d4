"""GET /notifications and POST /notifications/{id}/read: the caller's own, newest
first, in the caller's language, with a link into the web app."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from direkte.network.models import User
from direkte.notifications.service import deliver_pending, emit
from tests.conftest import T0
from tests.factories import login, make_network


def user_id(session: Session, email: str) -> int:
    return int(session.scalar(sa.select(User.id).where(User.email == email)) or 0)


def notify(
    session: Session, topic: str, recipients: list[int], case_id: int, **payload: str
) -> None:
    emit(
        session,
        at=T0,
        topic=topic,
        aggregate_kind="escalation",
        aggregate_id=case_id,
        recipients=list(recipients),
        payload={"escalation_id": case_id, **payload},
    )
    session.flush()
    deliver_pending(session, now=T0)
    session.commit()


class TestListNotifications:
    def test_newest_first_in_the_callers_language_with_a_link(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock)
        ola, eva = user_id(session, "ola@example.no"), user_id(session, "eva@example.no")
        notify(session, "escalation.acknowledged", [ola, eva], 11)
        notify(session, "escalation.resolved", [ola], 12)

        page = client.get("/api/v1/notifications", headers=login(client, "ola@example.no"))

        assert page.status_code == 200, page.text
        body = page.json()
        assert body["next_cursor"] is None
        assert [(n["type"], n["escalation_id"], n["link"]) for n in body["items"]] == [
            ("escalation.resolved", 12, "/app/cases/12"),
            ("escalation.acknowledged", 11, "/app/cases/11"),
        ]
        first = body["items"][0]
        assert first["title"] == "Saken din #12 har et utfall"  # Ola reads Norwegian
        assert first["read_at"] is None
        assert set(first) == {
            "id", "type", "escalation_id", "title", "body", "link", "created_at", "read_at"
        }  # fmt: skip
        english = client.get("/api/v1/notifications", headers=login(client, "eva@example.no"))
        assert [n["title"] for n in english.json()["items"]] == ["Your case #11 is being handled"]

    def test_pages_follow_the_cursor(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock)
        ola = user_id(session, "ola@example.no")
        for case_id in range(1, 6):
            notify(session, "escalation.resolved", [ola], case_id)
        headers = login(client, "ola@example.no")

        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/api/v1/notifications", params=params, headers=headers).json()
            seen += [n["escalation_id"] for n in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [5, 4, 3, 2, 1]
        bad = client.get("/api/v1/notifications?cursor=zz", headers=headers)
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_cursor")

    def test_without_a_log_in_is_401(self, client: TestClient) -> None:
        assert client.get("/api/v1/notifications").status_code == 401


class TestReadNotification:
    def test_marks_it_read_once(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock)
        notify(session, "escalation.resolved", [user_id(session, "ola@example.no")], 3)
        headers = login(client, "ola@example.no")
        [note] = client.get("/api/v1/notifications", headers=headers).json()["items"]

        read = client.post(f"/api/v1/notifications/{note['id']}/read", headers=headers)

        assert read.status_code == 200, read.text
        assert read.json()["read_at"] is not None
        again = client.post(f"/api/v1/notifications/{note['id']}/read", headers=headers)
        assert again.json()["read_at"] == read.json()["read_at"]
        [listed] = client.get("/api/v1/notifications", headers=headers).json()["items"]
        assert listed["read_at"] == read.json()["read_at"]

    def test_another_users_notification_is_404(
        self, client: TestClient, session: Session, clock: FixedClock
    ) -> None:
        make_network(session, clock)
        notify(session, "escalation.resolved", [user_id(session, "ola@example.no")], 3)
        [note] = client.get(
            "/api/v1/notifications", headers=login(client, "ola@example.no")
        ).json()["items"]

        for email in ("eva@example.no", "ops@example.no"):
            other = client.post(
                f"/api/v1/notifications/{note['id']}/read", headers=login(client, email)
            )
            assert (other.status_code, other.json()["error"]["code"]) == (
                404,
                "notification_not_found",
            )
        missing = client.post(
            "/api/v1/notifications/99999/read", headers=login(client, "ola@example.no")
        )
        assert missing.status_code == 404
