"""Ops in chromium: releasing a held request, the policy editor and backtest, and the
pages that wait for the figures and rollout API."""

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


def test_rollout_and_figures_say_they_are_not_available_yet(
    server: LiveServer, make_tab: MakeTab
) -> None:
    page = make_tab().context.new_page()
    log_in(page, OPS)
    for path in ("/app/ops/rollout", "/app/ops/figures"):
        page.goto(path)
        expect(page.locator("main")).to_contain_text("Not available yet")
        assert_accessible(page)
