"""The manager's path and the stale version, in chromium against a real server."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import MakeTab
from tests.browser.flows import LOCAL, REGIONAL, case_as_customer, customer, log_in, open_case
from tests.browser.server import LiveServer


def test_manager_acknowledges_replies_and_resolves(server: LiveServer, make_tab: MakeTab) -> None:
    email = customer(1)
    case = open_case(server, email, "The estimate went up eight times without asking me.")
    assert case["tier"] == 1
    page = make_tab().context.new_page()
    log_in(page, LOCAL)
    assert page.url.endswith("/app/inbox")
    card = page.locator(f"a[href='/app/cases/{case['id']}']")
    expect(card).to_be_visible()
    expect(page.locator(".inbox li").filter(has=card)).to_contain_text("left")
    assert_accessible(page)

    card.click()
    expect(page.locator("h1")).to_contain_text(f"Case {case['id']}")
    expect(page.locator("main")).to_contain_text("The estimate went up eight times")
    expect(page.locator("main")).to_contain_text("C1234")  # the trouble code
    decision = page.locator("section[aria-labelledby=decision-title]")
    expect(decision).to_contain_text("Passed")  # every rule of the decision
    expect(decision).to_contain_text("Policy version")
    assert_accessible(page)

    page.click("text=Acknowledge: I am on it")
    expect(page.locator("#case-facts")).to_contain_text("Being handled")
    page.fill("#reply-body", "We are checking the parts prices with the workshop now.")
    page.click("text=Send reply")
    expect(page.locator(".thread").first).to_contain_text("checking the parts prices")
    page.fill("#note-body", "Supplier price list is outdated.")
    page.click("text=Add note")
    expect(page.locator("main")).to_contain_text("Supplier price list is outdated.")
    page.fill("#call-summary", "Explained the new estimate on the phone.")
    page.fill("#call-minutes", "4")
    page.click("text=Log call")
    expect(page.locator("main")).to_contain_text("Explained the new estimate")

    page.check("input[name=outcome][value=revised]")
    page.fill("#amount", "-2500")
    page.fill("#resolve-note", "We reduced the estimate: the bushings alone are enough.")
    page.click("text=Resolve the case")
    expect(page.locator("#case-facts")).to_contain_text("Resolved")
    assert_accessible(page)

    seen = case_as_customer(server, email, case["id"])
    assert seen["status"] == "resolved"
    assert seen["outcome"]["outcome"] == "revised"
    assert seen["outcome"]["amount_delta"] == {"amount": "-2500.00", "currency": "NOK"}
    assert [m["body"] for m in seen["thread"]][-1].startswith("We are checking")
    assert "notes" not in seen or not seen.get("notes")  # the staff note stays staff-only
    with server.api() as api:
        rated = api.post(
            f"/api/v1/escalations/{case['id']}/rating",
            headers=server.token(email),
            json={"score": 5, "comment": "Quick and fair."},
        )
    assert rated.status_code == 201, rated.text
    page.reload()
    expect(page.locator("main")).to_contain_text("Rated 5 of 5 by the customer")


def test_a_stale_resolve_shows_the_new_state_and_loses_nothing(
    server: LiveServer, make_tab: MakeTab
) -> None:
    case = open_case(server, customer(2), "Nobody told me the price would double.")
    first = make_tab().context.new_page()
    second = make_tab().context.new_page()
    log_in(first, LOCAL)
    log_in(second, REGIONAL)  # a manager above the case's tier may act on it too
    for page in (first, second):
        page.goto(f"/app/cases/{case['id']}")
        expect(page.locator("h1")).to_contain_text(f"Case {case['id']}")

    first.check("input[name=outcome][value=upheld]")
    first.fill("#resolve-note", "The price is right: both parts are needed.")
    first.click("text=Resolve the case")
    expect(first.locator("#case-facts")).to_contain_text("Resolved")

    second.check("input[name=outcome][value=goodwill]")
    second.fill("#amount", "-500")
    second.fill("#resolve-note", "We take 500 off as goodwill.")
    second.click("text=Resolve the case")
    alert = second.locator("#changed")
    expect(alert).to_contain_text("Someone changed this case")
    expect(alert).to_contain_text("Resolved")
    expect(second.locator("#case-facts")).to_contain_text("Resolved")
    # The first manager's outcome stands; the second one's text was not lost.
    expect(second.locator("main")).to_contain_text("The price is right")
    assert_accessible(second)
    seen = case_as_customer(server, customer(2), case["id"])
    assert seen["outcome"]["outcome"] == "upheld"


def test_regional_manager_sees_the_load_of_each_local_manager(
    server: LiveServer, make_tab: MakeTab
) -> None:
    open_case(server, customer(3), "The estimate rose and nobody called me about it.")
    page = make_tab(width=390).context.new_page()
    log_in(page, REGIONAL)
    table = page.locator("#load-title + .scroll table")
    expect(table).to_contain_text("Liv Lokal")
    expect(table).to_contain_text("TST-01")
    assert_accessible(page)
