"""The content facts of a request's text (language, what it holds and why), for the decision."""

from __future__ import annotations

from typing import Any

from direkte.guardrails.content import SCREEN_VERSION, build_prefilter, guess_by_lingua, screen


def content_facts(text: str) -> dict[str, Any]:
    """Screen ``text`` into the Facts fields language, threat, abuse, content_matches,
    content_categories and content_screen."""
    verdict = screen(text)
    return {
        "language": verdict.language,
        "threat": verdict.threat,
        "abuse": verdict.abuse,
        "content_matches": tuple(verdict.matches),
        "content_categories": tuple(verdict.categories),
        "content_screen": SCREEN_VERSION,
    }


def warm_up() -> None:
    """Compile the phrase lists and load the language models before the first request:
    the words' model, and lingua's two detectors, which a text the words do not decide
    would otherwise build in its request (a second or more); and where the lists'
    prefilter is not in its cache yet, start building it in the background."""
    short = "Warm-up: the estimate went up without anyone calling me first."
    screen(short)
    build_prefilter()
    guess_by_lingua(short)
    guess_by_lingua(f"{short} {short}")  # long enough for the low-accuracy detector
