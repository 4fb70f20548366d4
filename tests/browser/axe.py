"""axe-core in the browser tests: no serious or critical accessibility violation on a page.

axe.min.js (tests/browser/vendor/, from npm) is added to every page as an init script by
the ``context`` fixture: that goes through the browser's debugging protocol, so the
pages' strict CSP (no inline script) stays in force for everything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


def violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe finds on the page as it is now."""
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }"""
    )
    return [v for v in found if v["impact"] in BLOCKING]


def assert_accessible(page: Page) -> None:
    """Fail with each serious or critical violation, its rule and where it is."""
    found = violations(page)
    assert not found, f"axe on {page.url}:\n" + "\n".join(
        f"  {v['impact']} {v['id']}: {v['help']} at {v['targets']}" for v in found
    )
