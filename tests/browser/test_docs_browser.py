"""/docs and /redoc render in a real browser with nothing from another host."""

from __future__ import annotations

from tests.browser.axe import assert_accessible
from tests.browser.conftest import MakeTab


def test_swagger_ui_renders_the_api_from_the_app_alone(make_tab: MakeTab) -> None:
    tab = make_tab()
    page = tab.context.new_page()
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui h1.title", timeout=20_000)
    assert "direkte" in page.inner_text(".swagger-ui h1.title")
    page.wait_for_selector("#operations-escalations-escalations_open_escalation")


def test_redoc_renders_the_api_from_the_app_alone(make_tab: MakeTab) -> None:
    tab = make_tab()
    page = tab.context.new_page()
    page.goto("/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    assert "direkte" in page.inner_text("h1")
    page.wait_for_selector("h2 >> text=Open Escalation")
    page.wait_for_load_state("networkidle")


def test_start_page_is_accessible(make_tab: MakeTab) -> None:
    page = make_tab(width=390).context.new_page()
    page.goto("/")
    assert_accessible(page)
