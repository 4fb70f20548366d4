"""The staff's and ops' pages through HTTP, on both databases: each calls the API's use
case, so these check what the page adds (filters, the stale version, forms) and that it
shows what the API says."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from babel.dates import format_datetime
from babel.numbers import format_currency

from direkte.i18n import LANGUAGES
from direkte.web import staff
from direkte.web.language import BABEL_LOCALES, catalog
from tests.factories import login
from tests.web.conftest import WebWorld

REASON = "The estimate went up by 6,000 kroner without a call."


def _open_case(web: WebWorld) -> dict[str, Any]:
    visit_id = web.visit()
    web.diagnosis()
    web.estimate(lines=[("Brake pads", "1", "9000")])
    disputed = web.estimate(lines=[("Brake pads and discs", "1", "15000")])
    opened = web.api.post(
        f"/api/v1/visits/{visit_id}/escalations",
        json={"category": "estimate", "subject_id": disputed, "reason": REASON},
        headers=login(web.api, "ola@example.no"),
    )
    assert opened.status_code == 201, opened.text
    case: dict[str, Any] = opened.json()
    return case


class TestInbox:
    def test_the_api_item_has_customer_center_stake_and_business_minutes(
        self, web: WebWorld
    ) -> None:
        case = _open_case(web)
        manager = login(web.api, "kari@example.no")
        item = web.api.get("/api/v1/inbox", headers=manager).json()["items"][0]
        assert item["id"] == case["id"]
        assert item["customer"] == "Ola Hansen"
        assert item["center"] == {
            "code": "OSL-01",
            "name": "Oslo Alnabru",
            "time_zone": "Europe/Oslo",
        }
        assert item["amount_at_stake"] == {"amount": "6000.00", "currency": "NOK"}
        assert item["due_in_business_minutes"] == 120  # first response: 2 business hours

    def test_the_api_filters_by_status_and_center(self, web: WebWorld) -> None:
        case = _open_case(web)
        manager = login(web.api, "kari@example.no")

        def ids(query: str) -> list[int]:
            got = web.api.get(f"/api/v1/inbox?{query}", headers=manager)
            assert got.status_code == 200, got.text
            return [i["id"] for i in got.json()["items"]]

        assert ids("status=open") == [case["id"]]
        assert ids("status=acknowledged") == []
        assert ids("center=OSL-01") == [case["id"]]
        assert ids("center=OSL-02") == []
        bad = web.api.get("/api/v1/inbox?status=resolved", headers=manager)
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "validation_error"

    def test_the_page_shows_the_case_and_filters(self, web: WebWorld) -> None:
        case = _open_case(web)
        manager = web.browser("kari@example.no")
        page = manager.get("/app/inbox?lang=en")
        assert page.status_code == 200
        assert f'href="/app/cases/{case["id"]}"' in page.text
        assert "Ola Hansen" in page.text
        assert "2 h 0 min left" in page.text
        assert "NOK" in page.text
        assert "6,000.00" in page.text
        assert f"/app/cases/{case['id']}" not in manager.get("/app/inbox?status=acknowledged").text

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_each_card_in_every_language(self, web: WebWorld, lang: str) -> None:
        """Category, customer, status, countdown in business time, center, amount and the
        opening time, in the page's language with Babel's formats; overdue in red."""
        case = _open_case(web)
        manager = web.browser("kari@example.no")
        words = catalog(lang)
        locale = BABEL_LOCALES[lang]
        text = html.unescape(manager.get(f"/app/inbox?lang={lang}").text)
        card = text.split(f'<a href="/app/cases/{case["id"]}">')[1].split("</li>")[0]
        assert card.startswith(f"{words.gettext('Estimate')} · Ola Hansen</a>")
        two_hours = words.gettext("%(hours)d h %(minutes)d min") % {"hours": 2, "minutes": 0}
        assert words.gettext("%(time)s left") % {"time": two_hours} in card
        assert words.gettext("in business hours") in card
        assert f'<span class="badge warn">{words.gettext("Open")}</span>' in card
        assert "Oslo Alnabru (OSL-01)" in card
        assert format_currency(Decimal("6000"), "NOK", locale=locale) in card
        opened = datetime.fromisoformat(case["created_at"])
        assert (
            format_datetime(opened, "short", tzinfo=ZoneInfo("Europe/Oslo"), locale=locale) in card
        )
        assert 'class="card breached"' not in text
        web.clock.advance(timedelta(days=3))  # well past the first response's 2 business hours
        manager = web.browser("kari@example.no")  # the first session has expired
        late = html.unescape(manager.get(f"/app/inbox?lang={lang}").text)
        card = late.split(f'<a href="/app/cases/{case["id"]}">')[1].split("</li>")[0]
        assert '<li class="card breached">' in late
        overdue = card.split('<strong class="overdue">')[1].split("</strong>")[0]
        assert overdue.startswith(words.gettext("Overdue by %(time)s").split("%(time)s")[0])

    def test_a_card_reads_the_item_without_its_guardrail(self) -> None:
        item = {"id": 7, "reason": 'says ,"due_in_business_minutes": 1 twice', "status": "open"}
        shown = {"guardrail": {"rules": [{"note": ',"due_in_business_minutes":'}]}}
        raw = orjson.dumps(shown | {"due_in_business_minutes": -5} | item)
        assert staff._card(raw) == {"due_in_business_minutes": -5, **item}
        assert staff._card(orjson.dumps(item)) == item  # no guardrail first: all of it

    def test_the_regional_manager_sees_each_local_managers_load(self, web: WebWorld) -> None:
        _open_case(web)
        page = web.browser("lars@example.no").get("/app/inbox?lang=en")
        assert page.status_code == 200
        assert "Load of the service managers in your region" in page.text
        row = page.text.split("Kari Nordmann</th>")[1].split("</tr>")[0]
        assert "OSL-01" in row
        assert '<td class="num">1</td>' in row
        assert '<td class="num">0</td>' in row  # none overdue yet
        web.clock.advance(timedelta(days=3))  # past the first response's due time
        later = web.browser("lars@example.no").get("/app/inbox?lang=en").text
        row = later.split("Kari Nordmann</th>")[1].split("</tr>")[0]
        assert '<strong class="overdue">1</strong>' in row

    def test_a_customer_gets_no_inbox(self, web: WebWorld) -> None:
        page = web.browser("ola@example.no").get("/app/inbox")
        assert page.status_code == 403


class TestStaffCase:
    def test_acknowledge_reply_note_call_and_resolve(self, web: WebWorld) -> None:
        case = _open_case(web)
        manager = web.browser("kari@example.no")
        path = f"/app/cases/{case['id']}"
        page = manager.get(path + "?lang=en")
        assert page.status_code == 200
        assert "went up by 6,000 kroner" in page.text
        assert "C1101" in page.text  # trouble code
        assert "+66.7" in page.text  # the disputed revision's change in percent
        assert "Policy version 0" in page.text
        for action, data in (
            ("acknowledge", {}),
            ("reply", {"body": "We are looking at it."}),
            ("notes", {"body": "Check the supplier's price."}),
            ("calls", {"summary": "Called the customer.", "minutes": "3"}),
        ):
            done = manager.form(path, f"{path}/{action}", data)
            assert done.status_code == 303, (action, done.text[:500])
        detail = web.api.get(
            f"/api/v1/escalations/{case['id']}", headers=login(web.api, "kari@example.no")
        ).json()
        assert detail["status"] == "acknowledged"
        assert [m["body"] for m in detail["thread"]][-1] == "We are looking at it."
        assert [n["body"] for n in detail["notes"]] == ["Check the supplier's price."]
        assert detail["calls"][0]["duration_seconds"] == 180
        version = detail["version"]
        resolved = manager.form(
            path,
            f"{path}/resolve",
            {
                "outcome": "revised",
                "amount_delta": "-3000",
                "note": "Discs not needed.",
                "version": str(version),
            },
        )
        assert resolved.status_code == 303
        mine = web.api.get(
            f"/api/v1/escalations/{case['id']}", headers=login(web.api, "ola@example.no")
        ).json()
        assert mine["outcome"]["amount_delta"] == {"amount": "-3000.00", "currency": "NOK"}
        assert mine.get("notes") is None

    def test_a_stale_version_shows_the_case_as_it_is_now(self, web: WebWorld) -> None:
        case = _open_case(web)
        path = f"/app/cases/{case['id']}"
        first, second = web.browser("kari@example.no"), web.browser("lars@example.no")
        stale_page = second.get(path)
        token = stale_page.text.split('name="csrf_token" value="')[1].split('"')[0]
        version = stale_page.text.split('name="version" value="')[1].split('"')[0]
        done = first.form(
            path,
            f"{path}/resolve",
            {"outcome": "upheld", "amount_delta": "0", "note": "Right price.", "version": version},
        )
        assert done.status_code == 303
        late = second.client.post(
            f"{path}/resolve?lang=en",
            data={
                "outcome": "goodwill",
                "amount_delta": "-100",
                "note": "Some off.",
                "version": version,
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert late.status_code == 409
        assert "Someone changed this case" in late.text
        assert "Some off." in late.text  # what was typed is kept
        assert "Right price." in late.text  # the outcome that stands is shown
        kept = web.api.get(
            f"/api/v1/escalations/{case['id']}", headers=login(web.api, "ola@example.no")
        ).json()
        assert kept["outcome"]["outcome"] == "upheld"

    def test_a_bad_amount_is_refused_beside_the_field(self, web: WebWorld) -> None:
        case = _open_case(web)
        path = f"/app/cases/{case['id']}"
        manager = web.browser("kari@example.no")
        page = manager.form(
            path,
            f"{path}/resolve",
            {"outcome": "revised", "amount_delta": "12,5", "note": "x", "version": "1"},
        )
        assert page.status_code == 422
        assert 'class="alert"' in page.text


class TestOps:
    def test_release_and_reject_held_requests(self, web: WebWorld) -> None:
        visit_id = web.visit()
        diagnosis = web.diagnosis()
        customer = login(web.api, "ola@example.no")
        held = web.api.post(
            f"/api/v1/visits/{visit_id}/escalations",
            json={
                "category": "diagnosis",
                "subject_id": diagnosis,
                "reason": "I will stab the manager if this is not fixed.",
            },
            headers=customer,
        ).json()
        assert held["status"] == "held"
        ops = web.browser("ops@example.no")
        page = ops.get("/app/ops/moderation?lang=en")
        assert f'id="held-{held["id"]}"' in page.text
        assert "content" in page.text
        empty = ops.form(
            "/app/ops/moderation", f"/app/ops/moderation/{held['id']}/reject", {"reason": "  "}
        )
        assert empty.status_code == 422
        done = ops.form("/app/ops/moderation", f"/app/ops/moderation/{held['id']}/release")
        assert done.status_code == 303
        again = ops.form("/app/ops/moderation", f"/app/ops/moderation/{held['id']}/release")
        assert again.status_code == 404 or again.status_code == 409

    def test_policy_check_backtest_and_a_stale_publish(self, web: WebWorld) -> None:
        ops = web.browser("ops@example.no")
        page = ops.get("/app/ops/policy?lang=en")
        assert page.status_code == 200
        bad = ops.form(
            "/app/ops/policy",
            "/app/ops/policy/check",
            {"document": '{"global": {"frequency": {"max_per_365_days": -1}}}'},
        )
        assert bad.status_code == 422
        assert "max_per_365_days" in bad.text
        document = page.text.split('class="code" spellcheck="false">')[1].split("</textarea>")[0]
        document = html.unescape(document)
        tested = ops.form(
            "/app/ops/policy",
            "/app/ops/policy/backtest",
            {"document": document, "date_from": "2026-10-01", "date_to": "2026-11-18"},
        )
        assert tested.status_code == 200, tested.text[:2000]
        assert "<svg" in tested.text
        assert "Reached a manager" in tested.text
        first = ops.form(
            "/app/ops/policy",
            "/app/ops/policy/publish",
            {"document": document, "version": "0", "note": "same"},
        )
        assert first.status_code == 303
        stale = ops.form(
            "/app/ops/policy",
            "/app/ops/policy/publish",
            {"document": document, "version": "0", "note": "late"},
        )
        assert stale.status_code == 409
        assert "Someone published a newer version" in stale.text

    def test_staff_get_no_ops_pages(self, web: WebWorld) -> None:
        manager = web.browser("kari@example.no")
        for path in ("/app/ops/moderation", "/app/ops/policy", "/app/ops/rollout"):
            assert manager.get(path).status_code == 403
