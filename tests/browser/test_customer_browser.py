"""The customer's path through part A's pages with the manager's in between: log in, open
the visit, see both managers, escalate, see the answer; the manager resolves; the
customer reads the outcome and rates it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import MakeTab
from tests.browser.flows import LOCAL, customer, log_in
from tests.browser.server import LiveServer


def test_customer_escalates_and_rates_the_managers_answer(
    server: LiveServer, make_tab: MakeTab
) -> None:
    email = customer(6)
    visit_id = server.push_disputed_estimate(email)
    phone = make_tab(width=390, height=844).context.new_page()
    log_in(phone, email)
    assert phone.url.endswith("/app/visits")
    phone.click(f"a[href='/app/visits/{visit_id}']")
    contacts = phone.locator("section[aria-labelledby=contacts]")
    expect(contacts).to_contain_text("Liv Lokal")
    expect(contacts).to_contain_text("Rolf Regional")
    expect(contacts.locator("a[href^='tel:']")).to_have_count(2)
    assert_accessible(phone)
    no_sideways_scroll = phone.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert no_sideways_scroll

    phone.get_by_role("link", name="I disagree with this estimate").click()
    phone.fill("#reason", "The estimate went from 2,850 to 11,450 kroner without a call.")
    phone.get_by_role("button", name="Show what will happen").click()
    expect(phone.locator("#preview")).to_contain_text("Liv Lokal")
    assert_accessible(phone)
    phone.get_by_role("button", name="Send").click()
    phone.wait_for_url(re.compile(r"/app/cases/\d+"))
    case_id = int(phone.url.split("/app/cases/")[1].split("?")[0].split("#")[0])
    expect(phone.locator("main")).to_contain_text("Liv Lokal")
    assert_accessible(phone)

    desk = make_tab().context.new_page()
    log_in(desk, LOCAL)
    desk.click(f"a[href='/app/cases/{case_id}']")
    desk.check("input[name=outcome][value=goodwill]")
    desk.fill("#amount", "-1000")
    desk.fill("#resolve-note", "We take 1,000 kroner off the labour as goodwill.")
    desk.click("text=Resolve the case")
    expect(desk.locator("#case-facts")).to_contain_text("Resolved")

    phone.reload()
    outcome = phone.locator("section[aria-labelledby=outcome]")
    expect(outcome).to_contain_text("Goodwill")
    expect(outcome).to_contain_text("1,000 kroner off the labour")
    phone.check("input[name=score][value='4']")
    phone.get_by_role("button", name="Send rating").click()
    expect(phone.locator("[role=status]")).to_contain_text("Thank you for your rating")
    assert_accessible(phone)
    desk.reload()
    expect(desk.locator("main")).to_contain_text("Rated 4 of 5 by the customer")
