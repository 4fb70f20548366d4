"""The content facts of a request's text (language, threat, abuse), for the decision."""

from __future__ import annotations

from typing import Any

from direkte.guardrails.content import screen


def content_facts(text: str) -> dict[str, Any]:
    """Screen ``text`` into the Facts fields language, threat, abuse and content_matches."""
    verdict = screen(text)
    return {
        "language": verdict.language,
        "threat": verdict.threat,
        "abuse": verdict.abuse,
        "content_matches": tuple(verdict.matches),
    }


def warm_up() -> None:
    """Compile the phrase lists and load the language models before the first request."""
    short = "Warm-up: the estimate went up without anyone calling me first."
    screen(short)
    screen(f"{short} {short}")  # long enough for the low-accuracy detector
