"""Regenerate docs/screenshots/: the web app's main pages at 390 px and 1,280 px wide,
in English and Norwegian, from a fresh `direkte serve` with the demo network.

    .venv/bin/python scripts/screenshots.py

Needs Debian's chromium (/usr/bin/chromium; `./dev test` installs it). Takes a minute.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.browser.flows import customer, log_in  # noqa: E402
from tests.browser.server import LiveServer, live_server  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
LANGUAGES = ("en", "nb")


def _pages(server: LiveServer) -> list[tuple[str, str, Callable[[Page], None]]]:
    """(name, who logs in, how to get there) for each page shown."""
    visit_id = server.push_disputed_estimate(customer(9))
    demo_manager = server.demo_logins["local_manager"]
    state: dict[str, str] = {}

    def visit(page: Page) -> None:
        page.goto(f"/app/visits/{visit_id}")

    def escalate(page: Page) -> None:
        page.goto(f"/app/visits/{visit_id}")
        page.locator(f"a[href^='/app/visits/{visit_id}/escalate?subject=estimate']").click()
        page.fill("#reason", "The estimate went from 2,850 to 11,450 kroner without a call.")
        page.locator("button[name=intent][value=preview]").click()
        page.wait_for_load_state()

    def case(page: Page) -> None:
        if "case" not in state:
            escalate(page)
            page.locator("button[name=intent][value=send]").click()
            page.wait_for_url(re.compile(r"/app/cases/\d+"))
            state["case"] = page.url.split("?")[0]
        page.goto(state["case"])

    def inbox(page: Page) -> None:
        page.goto("/app/inbox")

    def staff_case(page: Page) -> None:
        page.goto("/app/inbox")
        page.locator(".inbox a").first.click()

    def moderation(page: Page) -> None:
        page.goto("/app/ops/moderation")

    def policy(page: Page) -> None:
        page.goto("/app/ops/policy")
        page.locator("button[formaction='/app/ops/policy/backtest']").click()
        page.locator("#backtest-title").scroll_into_view_if_needed()

    def rollout(page: Page) -> None:
        # The evaluation is computed when asked for: the button's no-JavaScript address.
        page.goto("/app/ops/rollout?evaluate=1")
        page.locator("#evaluation-title").scroll_into_view_if_needed()

    return [
        ("visit", customer(9), visit),
        ("escalate", customer(9), escalate),
        ("case", customer(9), case),
        ("inbox", demo_manager, inbox),
        ("staff-case", demo_manager, staff_case),
        ("moderation", server.demo_logins["ops_admin"], moderation),
        ("policy", server.demo_logins["ops_admin"], policy),
        ("rollout", server.demo_logins["ops_admin"], rollout),
    ]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, live_server(Path(data)) as server:
        pages = _pages(server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            for lang in LANGUAGES:
                for name, who, go in pages:
                    for size, (width, height) in WIDTHS.items():
                        context = browser.new_context(
                            base_url=server.url, viewport={"width": width, "height": height}
                        )
                        page = context.new_page()
                        if who in server.demo_logins.values():
                            log_in(page, who, server.demo_password, lang=lang)
                        else:
                            log_in(page, who, lang=lang)
                        go(page)
                        target = OUT / f"{name}-{lang}-{size}.png"
                        page.screenshot(path=str(target))
                        print(target.relative_to(ROOT))  # noqa: T201
                        context.close()
            browser.close()


if __name__ == "__main__":
    main()
