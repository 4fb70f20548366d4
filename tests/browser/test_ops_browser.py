"""Ops in chromium: releasing a held request, the policy editor and backtest, the figures
form, and the rollout page's advance and override."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import MakeTab
from tests.browser.flows import OPS, case_as_customer, customer, log_in, open_case
from tests.browser.server import LiveServer


def test_ops_release_a_held_request(server: LiveServer, make_tab: MakeTab) -> None:
    email = customer(4)
    case = open_case(server, email, "If this price stays I will stab the manager.")
    assert case["status"] == "held"
    page = make_tab().context.new_page()
    log_in(page, OPS)
    assert page.url.endswith("/app/ops/moderation")
    held = page.locator(f"#held-{case['id']}")
    expect(held).to_contain_text("I will stab the manager")
    expect(held).to_contain_text("content")  # the rule that held it
    assert_accessible(page)
    held.get_by_role("button", name="Release").click()
    expect(page.locator("[role=status]")).to_contain_text("Released")
    expect(page.locator(f"#held-{case['id']}")).to_have_count(0)
    assert case_as_customer(server, email, case["id"])["status"] == "open"


def test_ops_reject_a_held_request_with_a_reason(server: LiveServer, make_tab: MakeTab) -> None:
    email = customer(5)
    case = open_case(server, email, "I will shoot the advisor if this is not fixed.")
    page = make_tab(width=390).context.new_page()
    log_in(page, OPS)
    held = page.locator(f"#held-{case['id']}")
    held.get_by_role("button", name="Reject").click()  # no reason: the browser asks for one
    expect(held).to_be_visible()
    held.locator("textarea").fill("Please write to us without threats; we will help.")
    held.get_by_role("button", name="Reject").click()
    expect(page.locator("[role=status]")).to_contain_text("Rejected")
    seen = case_as_customer(server, email, case["id"])
    assert seen["status"] == "rejected"
    assert seen["rejection_reason"] == "Please write to us without threats; we will help."


def test_policy_editor_checks_and_backtests_a_candidate(
    server: LiveServer, make_tab: MakeTab
) -> None:
    page = make_tab().context.new_page()
    log_in(page, OPS)
    page.goto("/app/ops/policy")
    expect(page.locator("h1")).to_contain_text("Guardrail policy")
    assert_accessible(page)
    editor = page.locator("#document")
    editor.fill('{"global": {"frequency": {"max_per_365_days": "many"}}}')
    page.get_by_role("button", name="Check").click()
    expect(page.locator("[role=alert]")).to_contain_text("max_per_365_days")
    editor.fill("{not json")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("[role=alert]")).to_contain_text("not JSON")
    page.goto("/app/ops/policy")
    page.get_by_role("button", name="Backtest").click()
    expect(page.locator("#backtest-title")).to_be_visible()
    expect(page.locator("svg.chart rect")).to_have_count(12)
    expect(page.locator("section[aria-labelledby=backtest-title] table")).to_contain_text(
        "Reached a manager"
    )
    assert_accessible(page)


def test_figures_form_shows_the_table_and_its_errors(server: LiveServer, make_tab: MakeTab) -> None:
    page = make_tab().context.new_page()
    log_in(page, OPS)
    page.get_by_role("link", name="Figures").click()
    expect(page.locator("h1")).to_contain_text("Figures")
    expect(page.locator("#figures-table")).to_contain_text("All")
    page.select_option("#group_by", "center")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#figures-table tbody th", has_text="TST-01")).to_have_count(1)
    assert_accessible(page)
    page.fill("#from", "2026-11-10")
    page.fill("#to", "2026-11-01")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#to-problem")).to_contain_text("must not be before the start date")
    expect(page.locator("#to")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_rollout_refuses_a_failing_gate_then_an_override_moves_the_center(
    server: LiveServer, make_tab: MakeTab
) -> None:
    ops = server.token(OPS)
    gate = [{"figure": "satisfaction", "op": ">=", "value": 4.5}]  # no ratings: it fails
    with server.api() as api:
        planned = api.put(
            "/api/v1/rollout",
            headers=ops,
            json={
                "waves": [
                    {
                        "name": "Full program",
                        "date": "2026-01-05",
                        "program": "on",
                        "centers": ["TST-01"],
                        "gate": gate,
                    }
                ]
            },
        )
        assert planned.status_code == 200, planned.text
    try:
        page = make_tab().context.new_page()
        log_in(page, OPS)
        page.goto("/app/ops/rollout")
        wave = page.locator("article", has_text="Full program")
        expect(wave).to_contain_text("Blocked")
        expect(page.locator("#evaluation")).to_have_count(0)  # computed when asked for
        page.get_by_role("button", name="Run the evaluation").click()
        expect(page.locator("#evaluation")).to_contain_text("Insufficient data")
        assert_accessible(page)
        wave.get_by_role("button", name="Advance Full program", exact=True).click()
        alert = page.locator("#refused")
        expect(alert).to_contain_text("its gate does not hold")
        expect(alert).to_contain_text("Satisfaction (mean): measured no data, needs >= 4.5")
        assert_accessible(page)
        wave = page.locator("article", has_text="Full program")
        wave.get_by_label("Reason for the override").fill("Agreed at the program board.")
        wave.get_by_role("button", name="Advance Full program despite the gate").click()
        expect(page.locator("[role=status]")).to_contain_text("Wave Full program advanced")
        centers = page.locator("section[aria-labelledby=centers-title] tr", has_text="TST-01")
        expect(centers).to_contain_text("On")
        with server.api() as api:
            state = api.get("/api/v1/rollout", headers=ops).json()
        assert {c["code"]: c["program"] for c in state["centers"]}["TST-01"] == "on"
        (done,) = [w for w in state["waves"] if w["name"] == "Full program"]
        assert done["forced"] is True
    finally:  # the other tests' center stays in the pilot
        with server.api() as api:
            reset = api.put(
                "/api/v1/rollout",
                headers=ops,
                json={"centers": [{"code": "TST-01", "program": "pilot"}], "waves": []},
            )
            assert reset.status_code == 200, reset.text
