"""The customer's pages, through HTTP: each shows the visit's data as the API has it,
and escalating from the page is the API's use case (idempotent on the form's key)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.escalations.models import Escalation, EscalationRequest
from direkte.notifications.service import deliver_pending
from tests.factories import login
from tests.web.conftest import Browser, WebWorld, csrf_of, html_lang

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')


def count(session: Session, model: type) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def a_visit_with_revisions(web: WebWorld) -> dict[str, int]:
    visit_id = web.visit()
    diagnosis_id = web.diagnosis()
    first = web.estimate(lines=[("Brake pads", "1", "8000")])
    second = web.estimate(lines=[("Brake pads", "1", "8000"), ("Brake discs", "2", "1000")])
    return {"visit": visit_id, "diagnosis": diagnosis_id, "first": first, "second": second}


def escalate_form(browser: Browser, visit_id: int, subject: str, reason: str) -> dict[str, str]:
    page = browser.get(f"/app/visits/{visit_id}/escalate?subject={subject}")
    assert page.status_code == 200, page.text
    key = KEY_RE.search(page.text)
    assert key
    return {
        "csrf_token": csrf_of(page),
        "idempotency_key": key.group(1),
        "subject": subject,
        "reason": reason,
        "intent": "send",
    }


class TestVisits:
    def test_my_visits_lists_mine_only(self, web: WebWorld) -> None:
        web.visit()
        web.visit("RO-2", customer_email="mads@example.dk", center="CPH-01")
        page = web.browser("ola@example.no").get("/app/visits?lang=en")
        assert page.status_code == 200
        assert "Model 3" in page.text
        assert "Oslo" in page.text
        assert page.text.count('href="/app/visits/') == 1

    def test_visit_page_shows_revisions_deltas_and_managers(self, web: WebWorld) -> None:
        ids = a_visit_with_revisions(web)
        page = web.browser("ola@example.no").get(f"/app/visits/{ids['visit']}?lang=en")
        assert page.status_code == 200, page.text
        text = page.text
        # Both managers, with their titles, languages, availability, phone and a way to write.
        assert "Kari Nordmann" in text
        assert "Lars Berg" in text
        assert 'href="tel:+4791234567"' in text
        assert "Available now" in text
        assert "Wednesday" in text  # the opening hours, by weekday
        assert f'href="/app/visits/{ids["visit"]}/escalate"' in text
        # The estimate went from 8,000 to 10,000 NOK: +2,000 (+25.0 %), line by line.
        assert "NOK10,000.00" in text
        assert "+NOK2,000.00" in text
        assert "+25%" in text
        assert "Added: Brake discs" in text
        # The diagnosis and the status history.
        assert "Pads worn" in text
        assert "C1101" in text
        assert "Checked in" in text

    def test_money_and_dates_in_the_page_language(self, web: WebWorld) -> None:
        ids = a_visit_with_revisions(web)
        page = web.browser("ola@example.no").get(f"/app/visits/{ids['visit']}?lang=nb")
        assert html_lang(page) == "nb"
        assert "10\xa0000,00\xa0kr" in page.text
        assert "+25\xa0%" in page.text
        page = web.browser("ola@example.no").get(f"/app/visits/{ids['visit']}?lang=de")
        assert "10.000,00\xa0NOK" in page.text

    def test_someone_elses_visit_is_a_not_found_page(self, web: WebWorld) -> None:
        ids = a_visit_with_revisions(web)
        page = web.browser("mads@example.dk").get(f"/app/visits/{ids['visit']}")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert html_lang(page) == "da"
        assert "Ikke fundet" in page.text
        assert "Kari" not in page.text
        escalate = web.browser("mads@example.dk").get(f"/app/visits/{ids['visit']}/escalate")
        assert escalate.status_code == 404


class TestEscalate:
    def test_the_preview_shows_who_and_by_when_and_records_nothing(
        self, web: WebWorld, session: Session
    ) -> None:
        ids = a_visit_with_revisions(web)
        browser = web.browser("ola@example.no")
        form = escalate_form(browser, ids["visit"], f"diagnosis:{ids['diagnosis']}", "Again?")
        response = browser.client.post(
            f"/app/visits/{ids['visit']}/escalate/preview?lang=en",
            data=form,
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200, response.text
        assert "Kari Nordmann" in response.text
        # 2 business hours from Wednesday 10:00 in Oslo.
        assert "Wednesday 18 November, 12:00" in response.text
        assert count(session, EscalationRequest) == 0

    def test_the_preview_without_script_renders_the_whole_page(self, web: WebWorld) -> None:
        ids = a_visit_with_revisions(web)
        browser = web.browser("ola@example.no")
        form = escalate_form(browser, ids["visit"], f"estimate:{ids['second']}", "Too dear")
        response = browser.client.post(
            f"/app/visits/{ids['visit']}/escalate?lang=en", data={**form, "intent": "preview"}
        )
        assert response.status_code == 200
        assert "What will happen" in response.text
        assert "Too dear" in response.text

    def test_send_opens_the_case_and_a_double_tap_sends_one(
        self, web: WebWorld, session: Session
    ) -> None:
        ids = a_visit_with_revisions(web)
        browser = web.browser("ola@example.no")
        form = escalate_form(
            browser, ids["visit"], f"diagnosis:{ids['diagnosis']}", "The pads were new"
        )
        url = f"/app/visits/{ids['visit']}/escalate"
        first = browser.client.post(url, data=form, follow_redirects=False)
        second = browser.client.post(url, data=form, follow_redirects=False)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert count(session, Escalation) == 1
        assert count(session, EscalationRequest) == 1
        case_page = browser.get(first.headers["location"] + "&lang=en")
        assert case_page.status_code == 200
        assert "Your request was sent." in case_page.text
        assert "Kari Nordmann" in case_page.text
        assert "First answer by Wednesday 18 November, 12:00" in case_page.text
        assert "The pads were new" in case_page.text
        # The API sees the same case.
        api = web.api.get(
            f"/api/v1/visits/{ids['visit']}", headers=login(web.api, "ola@example.no")
        )
        assert len(api.json()["escalations"]) == 1

    def test_a_refused_request_says_why(self, web: WebWorld) -> None:
        ids = a_visit_with_revisions(web)
        browser = web.browser("ola@example.no")
        form = escalate_form(browser, ids["visit"], "warranty:999999", "Not fair")
        response = browser.client.post(
            f"/app/visits/{ids['visit']}/escalate?lang=en", data=form, follow_redirects=False
        )
        assert response.status_code == 422
        assert "This cannot be escalated." in response.text

    def test_missing_reason_is_asked_for(self, web: WebWorld) -> None:
        ids = a_visit_with_revisions(web)
        browser = web.browser("ola@example.no")
        form = escalate_form(browser, ids["visit"], f"diagnosis:{ids['diagnosis']}", "  ")
        response = browser.client.post(
            f"/app/visits/{ids['visit']}/escalate?lang=en", data=form, follow_redirects=False
        )
        assert response.status_code == 422
        assert "Say why you disagree." in response.text

    def test_without_csrf_nothing_is_sent(self, web: WebWorld, session: Session) -> None:
        ids = a_visit_with_revisions(web)
        browser = web.browser("ola@example.no")
        form = escalate_form(browser, ids["visit"], f"diagnosis:{ids['diagnosis']}", "x")
        del form["csrf_token"]
        response = browser.client.post(f"/app/visits/{ids['visit']}/escalate", data=form)
        assert response.status_code == 403
        assert count(session, EscalationRequest) == 0


def open_case(web: WebWorld, browser: Browser) -> tuple[int, int]:
    ids = a_visit_with_revisions(web)
    form = escalate_form(browser, ids["visit"], f"diagnosis:{ids['diagnosis']}", "Pads are new")
    sent = browser.client.post(
        f"/app/visits/{ids['visit']}/escalate", data=form, follow_redirects=False
    )
    case_id = int(sent.headers["location"].split("/")[3].split("?")[0])
    return ids["visit"], case_id


class TestCase:
    def test_thread_polls_and_a_message_appears(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        _, case_id = open_case(web, browser)
        page = browser.get(f"/app/cases/{case_id}")
        assert 'hx-trigger="every 10s"' in page.text
        kari = login(web.api, "kari@example.no")
        reply = web.api.post(
            f"/api/v1/escalations/{case_id}/messages", json={"body": "Looking at it"}, headers=kari
        )
        assert reply.status_code == 201
        thread = browser.get(f"/app/cases/{case_id}/thread", headers={"HX-Request": "true"})
        assert "Looking at it" in thread.text
        assert "<html" not in thread.text

    def test_customer_writes_once_per_form(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        _, case_id = open_case(web, browser)
        page = browser.get(f"/app/cases/{case_id}")
        key = KEY_RE.search(page.text)
        assert key
        data = {"csrf_token": csrf_of(page), "idempotency_key": key.group(1), "body": "Hello?"}
        for _ in range(2):
            response = browser.client.post(
                f"/app/cases/{case_id}/messages", data=data, headers={"HX-Request": "true"}
            )
            assert response.status_code == 200
        assert response.text.count("Hello?") == 1

    def test_withdraw(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        _, case_id = open_case(web, browser)
        response = browser.form(f"/app/cases/{case_id}", f"/app/cases/{case_id}/withdraw")
        assert response.status_code == 303
        page = browser.get(f"/app/cases/{case_id}?lang=en")
        assert "Withdrawn" in page.text
        assert "Withdraw the case" not in page.text

    def test_outcome_appeal_and_rating(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        _, case_id = open_case(web, browser)
        kari = login(web.api, "kari@example.no")
        version = web.api.get(f"/api/v1/escalations/{case_id}", headers=kari).json()["version"]
        resolved = web.api.post(
            f"/api/v1/escalations/{case_id}/resolve",
            json={
                "outcome": "upheld",
                "amount_delta": "0",
                "note": "Pads worn.",
                "version": version,
            },
            headers=kari,
        )
        assert resolved.status_code == 200, resolved.text
        page = browser.get(f"/app/cases/{case_id}?lang=en")
        assert "The decision stands" in page.text
        assert "Pads worn." in page.text
        assert "You can appeal once to the regional manager" in page.text
        rated = browser.form(
            f"/app/cases/{case_id}", f"/app/cases/{case_id}/rating", {"score": "4"}
        )
        assert rated.status_code == 303
        page = browser.get(f"/app/cases/{case_id}?lang=en")
        assert "4 of 5" in page.text
        appealed = browser.form(
            f"/app/cases/{case_id}", f"/app/cases/{case_id}/appeal", {"reason": "Look again"}
        )
        assert appealed.status_code == 303
        page = browser.get(f"/app/cases/{case_id}?lang=en")
        assert "Lars Berg" in page.text

    def test_someone_elses_case_is_not_found(self, web: WebWorld) -> None:
        _, case_id = open_case(web, web.browser("ola@example.no"))
        page = web.browser("mads@example.dk").get(f"/app/cases/{case_id}")
        assert page.status_code == 404


class TestNotifications:
    def test_notifications_in_the_page_language_and_open_the_case(
        self, web: WebWorld, session: Session
    ) -> None:
        browser = web.browser("ola@example.no")
        _, case_id = open_case(web, browser)
        kari = login(web.api, "kari@example.no")
        acknowledged = web.api.post(f"/api/v1/escalations/{case_id}/acknowledge", headers=kari)
        assert acknowledged.status_code == 200
        deliver_pending(session, now=web.clock.now())
        session.commit()
        page = browser.get("/app/notifications?lang=en")
        assert page.status_code == 200
        api = web.api.get("/api/v1/notifications", headers=login(web.api, "ola@example.no"))
        mine = api.json()["items"]
        assert mine
        note = mine[0]
        assert 'class="badge warn"' in page.text  # unread
        opened = browser.form("/app/notifications", f"/app/notifications/{note['id']}/read")
        assert opened.status_code == 303
        assert opened.headers["location"] == note["link"]
        assert note["link"] == f"/app/cases/{case_id}"
