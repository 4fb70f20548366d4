"""Browser tests: Playwright for Python driving Debian's chromium against a real server.

They run on either database leg: the server has its own embedded SQLite database (the
pages call the same use cases whichever database is behind them). Skipped, with the
reason printed, only where /usr/bin/chromium is missing (`./dev test` installs it with
apt-get); no browser is ever downloaded.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Request, sync_playwright

from tests.browser.axe import AXE_JS
from tests.browser.server import LiveServer, live_server

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("browser-server")
    with live_server(data_dir) as running:
        yield running
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing "
            "(apt-get install chromium; ./dev test installs it)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What pages did that a test fails on: requests to other hosts, console errors
    (CSP violations among them) and uncaught script errors."""

    base_url: str
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        if not request.url.startswith((self.base_url, "data:", "blob:", "about:")):
            self.foreign.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        # A 4xx page the test asked for logs "Failed to load resource": not a page fault.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def assert_clean(self) -> None:
        assert not self.foreign, f"requests to other hosts: {self.foreign}"
        assert not self.errors, f"console errors: {self.errors}"


@dataclass
class Tab:
    context: BrowserContext
    watch: Watch


MakeTab = Callable[..., Tab]


@pytest.fixture
def make_tab(browser: Browser, server: LiveServer) -> Iterator[MakeTab]:
    """Fresh browser contexts (each its own cookies), axe-core loaded in every page and a
    watch on what they request and log; every watch must be clean at the end."""
    made: list[Tab] = []

    def make(width: int = 1280, height: int = 900, locale: str = "en-GB") -> Tab:
        context = browser.new_context(
            base_url=server.url, viewport={"width": width, "height": height}, locale=locale
        )
        context.add_init_script(path=str(AXE_JS))
        watch = Watch(server.url)
        context.on("request", watch.on_request)
        context.on("console", watch.on_console)
        context.on("weberror", lambda error: watch.errors.append(str(error.error)))
        made.append(Tab(context, watch))
        return made[-1]

    yield make
    for tab in made:
        tab.context.close()
    for tab in made:
        tab.watch.assert_clean()
