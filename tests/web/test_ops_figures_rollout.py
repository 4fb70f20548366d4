"""The figures and rollout pages through HTTP, on both databases: they call the use cases
``GET /metrics``, ``GET /rollout``, the advance and the evaluation call, so these check
what the pages add (the form, its errors in the user's language, the advance refusal and
the override) and that they show what the API says."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.analytics.test_rollout import history_visits
from tests.factories import login
from tests.web.conftest import WebWorld

OPS = "ops@example.no"
GATE = [
    {"figure": "same_day_resolution", "op": ">=", "value": 0.9},
    {"figure": "escalation_rate_per_100", "op": "<=", "value": 5},
]


def history(web: WebWorld, session: Session, *, same_day: int, of: int) -> None:
    """``of`` visits at OSL-01 (a pilot center) over the last days, ``same_day`` of them
    ready the day they came in; then the worker's round of roll-ups."""
    history_visits(web, session, web.clock, same_day=same_day, of=of)


def cells(page: str, row_label: str) -> list[str]:
    """The text of a table row's cells, found by its header cell."""
    found = re.search(rf'<th scope="row">{re.escape(row_label)}</th>(.*?)</tr>', page, flags=re.S)
    assert found, page[:3000]
    return [
        html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), flags=re.S)
    ]


def plan(web: WebWorld, *waves: dict[str, Any]) -> list[dict[str, Any]]:
    response = web.api.put(
        "/api/v1/rollout", json={"waves": list(waves)}, headers=login(web.api, OPS)
    )
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["waves"]
    return result


class TestFigures:
    def test_shows_the_figures_of_a_small_history(self, web: WebWorld, session: Session) -> None:
        history(web, session, same_day=3, of=4)
        api = web.api.get(
            "/api/v1/metrics", params={"group_by": "center"}, headers=login(web.api, OPS)
        ).json()
        page = web.browser(OPS).get("/app/ops/figures?lang=en&group_by=center")
        assert page.status_code == 200, page.text
        total = cells(page.text, "All")
        assert total[0] == "4"  # visits checked in
        assert total[1] == "3 / 4"
        assert total[2].startswith("75%")
        assert "meets target" in total[2]
        assert api["same_day_resolution"] == {"count": 3, "of": 4, "rate": 0.75, "target": 2 / 3}
        # one row per group, as the API groups them
        assert [g["key"] for g in api["groups"]] == ["CPH-01", "OSL-01", "OSL-02"]
        assert cells(page.text, "OSL-01")[1] == "3 / 4"
        assert cells(page.text, "CPH-01")[1] == "0 / 0"
        # the default window: the last 28 days up to yesterday
        assert 'name="from" value="2026-10-21"' in page.text
        assert 'name="to" value="2026-11-17"' in page.text

    def test_in_norwegian_numbers_are_formatted_for_the_locale(
        self, web: WebWorld, session: Session
    ) -> None:
        history(web, session, same_day=1, of=3)
        page = web.browser(OPS).get("/app/ops/figures?lang=nb")
        assert page.status_code == 200
        total = cells(page.text, "Alle")
        assert total[1] == "1 / 3"
        assert total[2].startswith("33,3")
        assert "under målet" in total[2]

    @pytest.mark.parametrize(
        ("query", "field", "message"),
        [
            ("from=2026-13-40", "from", "Enter a date as YYYY-MM-DD."),
            ("from=2026-11-10&to=2026-11-01", "to", "The end date must not be before the start"),
            ("from=2020-01-01&to=2026-11-01", "from", "The period is at most 731 days."),
            ("center=NOPE-1", "center", "There is no center NOPE-1."),
            ("group_by=month", "group_by", "This value is not valid."),
        ],
    )
    def test_bad_input_is_shown_in_the_form(
        self, web: WebWorld, query: str, field: str, message: str
    ) -> None:
        page = web.browser(OPS).get(f"/app/ops/figures?lang=en&{query}")
        assert page.status_code == 422
        assert f'id="{field}-problem">{message}' in html.unescape(page.text)
        assert 'aria-invalid="true"' in page.text
        assert 'id="figures-table"' not in page.text

    def test_the_error_is_in_the_users_language(self, web: WebWorld) -> None:
        page = web.browser(OPS).get("/app/ops/figures?lang=de&from=2026-11-10&to=2026-11-01")
        assert page.status_code == 422
        assert "Das Enddatum darf nicht vor dem Startdatum liegen." in page.text

    def test_staff_read_their_own_center_only(self, web: WebWorld, session: Session) -> None:
        history(web, session, same_day=1, of=2)
        manager = web.browser("kari@example.no")  # local manager at OSL-01
        own = manager.get("/app/ops/figures?lang=en&group_by=center")
        assert own.status_code == 200
        assert cells(own.text, "OSL-01")[1] == "1 / 2"
        assert "CPH-01" not in own.text
        assert manager.get("/app/ops/figures?center=CPH-01").status_code == 403
        assert web.browser("ola@example.no").get("/app/ops/figures").status_code == 403


class TestRollout:
    def test_lists_centers_waves_gates_and_the_evaluation(
        self, web: WebWorld, session: Session
    ) -> None:
        history(web, session, same_day=3, of=4)
        plan(web, {"name": "Wave 2", "date": "2026-11-01", "centers": ["OSL-02"], "gate": GATE})
        page = web.browser(OPS).get("/app/ops/rollout?lang=en")
        assert page.status_code == 200, page.text
        text = html.unescape(page.text)
        assert "Wave 2" in text
        assert "Blocked" in text
        gate = cells(page.text, "Same-day resolution")
        assert gate == [">= 90%", "75%", "No"]
        assert cells(page.text, "Escalations per 100 visits") == ["<= 5", "0", "Yes"]
        assert cells(page.text, "OSL-01")[0] == "Pilot"
        assert cells(page.text, "OSL-02")[0] == "Off"
        assert "Evaluation: same-day resolution" in text
        # The evaluation is computed only when asked for: a button on the page.
        assert "Run the evaluation" in text
        assert 'id="evaluation"' not in text
        asked = web.browser(OPS).get("/app/ops/rollout?lang=en&evaluate=1")
        assert 'id="evaluation"' in asked.text
        assert "Insufficient data" in html.unescape(asked.text)

    def test_the_evaluation_on_demand_says_why_in_the_users_language(
        self, web: WebWorld, session: Session
    ) -> None:
        history(web, session, same_day=3, of=4)
        api = web.api.get("/api/v1/rollout/evaluation", headers=login(web.api, OPS)).json()
        assert api["reason"].startswith("0 treated centers with at least 4 weeks before entry")
        ops = web.browser(OPS)
        for lang, why in (
            ("en", "0 program centers with at least 4 weeks before they joined; at least 5"),
            ("nb", "0 verksteder i programmet med minst 4 uker før de ble med; minst 5 trengs."),
            ("de", "0 Werkstätten im Programm mit mindestens 4 Wochen vor ihrem Eintritt"),
        ):
            part = ops.get(f"/app/ops/rollout/evaluation?lang={lang}")
            assert part.status_code == 200
            text = html.unescape(part.text)
            assert '<dl id="evaluation"' in text
            assert why in text
            assert "<html" not in text  # the part alone, for htmx
        assert web.browser("lars@example.no").get("/app/ops/rollout/evaluation").status_code == 403

    def test_advance_refused_shows_the_failing_conditions(
        self, web: WebWorld, session: Session
    ) -> None:
        history(web, session, same_day=3, of=4)
        (wave,) = plan(
            web, {"name": "Wave 2", "date": "2026-11-01", "centers": ["OSL-02"], "gate": GATE}
        )
        ops = web.browser(OPS)
        refused = ops.form(
            "/app/ops/rollout?lang=en", f"/app/ops/rollout/waves/{wave['id']}/advance"
        )
        assert refused.status_code == 409
        text = html.unescape(refused.text)
        assert "The wave was not advanced: its gate does not hold" in text
        assert "Same-day resolution: measured 75%, needs >= 90%" in text
        assert "Escalations per 100 visits: measured" not in text  # that one holds
        state = web.api.get("/api/v1/rollout", headers=login(web.api, OPS)).json()
        assert {c["code"]: c["program"] for c in state["centers"]}["OSL-02"] == "off"

    def test_an_override_needs_a_reason_then_moves_the_centers(self, web: WebWorld) -> None:
        (wave,) = plan(
            web, {"name": "Wave 2", "date": "2026-11-01", "centers": ["OSL-02"], "gate": GATE}
        )
        ops = web.browser(OPS)
        action = f"/app/ops/rollout/waves/{wave['id']}/advance"
        no_reason = ops.form("/app/ops/rollout?lang=en", action, {"force": "true", "reason": " "})
        assert no_reason.status_code == 422
        assert "An override needs a reason." in no_reason.text
        moved = ops.form(
            "/app/ops/rollout?lang=en",
            action,
            {"force": "true", "reason": "The board decided to go ahead."},
        )
        assert moved.status_code == 303
        assert moved.headers["location"] == f"/app/ops/rollout?done={wave['id']}"
        page = ops.get(moved.headers["location"] + "&lang=en")
        assert "Wave Wave 2 advanced" in html.unescape(page.text)
        assert "The gate was overridden." in page.text
        assert cells(page.text, "OSL-02")[0] == "Pilot"
        state = web.api.get("/api/v1/rollout", headers=login(web.api, OPS)).json()
        assert {c["code"]: c["program"] for c in state["centers"]}["OSL-02"] == "pilot"
        assert state["waves"][0]["forced"] is True
        again = ops.form("/app/ops/rollout?lang=en", action)
        assert again.status_code == 409
        assert "This wave has already advanced." in again.text

    def test_staff_get_no_rollout_page(self, web: WebWorld) -> None:
        assert web.browser("lars@example.no").get("/app/ops/rollout").status_code == 403


def test_the_form_posts_carry_the_csrf_token(web: WebWorld) -> None:
    (wave,) = plan(web, {"name": "W", "date": "2026-11-01", "centers": ["OSL-02"]})
    ops = web.browser(OPS)
    ops.get("/app/ops/rollout")
    response = ops.client.post(
        f"/app/ops/rollout/waves/{wave['id']}/advance", data={}, follow_redirects=False
    )
    assert response.status_code == 403
    state = web.api.get("/api/v1/rollout", headers=login(web.api, OPS)).json()
    assert state["waves"][0]["status"] == "ready"  # not advanced
