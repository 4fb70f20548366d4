"""One page per language shows no untranslated word of the web app's catalog (besides
the catalog test, which fails on any msgid without a translation)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page

from tests.browser.axe import assert_accessible
from tests.browser.conftest import MakeTab
from tests.browser.flows import LOCAL, OPS, REGIONAL, customer, log_in, open_case
from tests.browser.server import LiveServer

LOCALE = Path(__file__).parents[2] / "src" / "direkte" / "web" / "locale"
SHORTEST = 12  # shorter source texts may occur as data (names, codes)


def _untranslated_on(page: Page, lang: str) -> list[str]:
    """Source texts of the catalog that differ in ``lang`` but show on the page in English."""
    with (LOCALE / lang / "LC_MESSAGES" / "direkte.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    text = page.inner_text("body")
    found = []
    for message in catalog:
        source = message.id if isinstance(message.id, str) else None
        if not source or len(source) < SHORTEST or "%(" in source or message.string == source:
            continue
        if source in text:
            found.append(source)
    return found


@pytest.mark.parametrize(
    ("lang", "who", "path"),
    [
        ("nb", LOCAL, "/app/inbox"),
        ("da", REGIONAL, "/app/inbox"),
        ("sv", OPS, "/app/ops/moderation"),
        ("de", OPS, "/app/ops/policy"),
    ],
)
def test_page_in_language_has_no_english_left(
    server: LiveServer, make_tab: MakeTab, lang: str, who: str, path: str
) -> None:
    open_case(server, customer(7), "The estimate rose a lot and nobody called me.")
    page = make_tab().context.new_page()
    log_in(page, who, lang=lang)
    page.goto(f"{path}?lang={lang}")
    assert page.get_attribute("html", "lang") == lang
    assert _untranslated_on(page, lang) == []
    assert_accessible(page)


def test_staff_case_page_in_german(server: LiveServer, make_tab: MakeTab) -> None:
    case = open_case(server, customer(8), "Der Kostenvoranschlag ist viel zu hoch.")
    page = make_tab().context.new_page()
    log_in(page, LOCAL, lang="de")
    page.goto(f"/app/cases/{case['id']}?lang=de")
    assert page.get_attribute("html", "lang") == "de"
    assert _untranslated_on(page, "de") == []
