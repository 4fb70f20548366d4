"""The customer's explanations: every reason in every language, from the gettext catalogs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.resources import files
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from direkte.guardrails.engine import Facts, appeal, eligibility, frequency
from direkte.guardrails.explanations import _ENGLISH, REASONS, explain
from direkte.guardrails.policy import DEFAULT_POLICY
from direkte.i18n import LANGUAGES

LOCALE = files("direkte.guardrails") / "locale"
TRANSLATED = [language for language in LANGUAGES if language != "en"]
WITH_DUE = ("routed.tier0", "routed.tier1", "routed.tier2", "appeal_routed")
# 14:00 UTC: 15:00 in Oslo in winter (CET), 16:00 in summer (CEST).
WINTER_DUE = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
SUMMER_DUE = datetime(2026, 7, 16, 14, 0, tzinfo=UTC)
# The reasons whose text shows a count, and which count it shows.
COUNTED = {
    "frequency.under_limit": "limit",
    "frequency.not_cooling_down": "cooldown",
    "not_eligible.within_window": "days",
    "appeal.within_window": "days",
}
# The nouns shown with the counts, (singular, plural); German "Anliegen" is both.
CASES = {
    "en": ("case", "cases"),
    "nb": ("sak", "saker"),
    "da": ("sag", "sager"),
    "sv": ("ärende", "ärenden"),
    "de": ("Anliegen", "Anliegen"),
}
DAYS = {
    "en": ("day", "days"),
    "nb": ("dag", "dager"),
    "da": ("dag", "dage"),
    "sv": ("dag", "dagar"),
    "de": ("Tag", "Tage"),
}

FACTS = Facts(
    kind="create",
    category="estimate",
    program="on",
    visit_status="open",
    visit_checked_in_at=WINTER_DUE,
    visit_closed_at=None,
    subject_id=1,
    subject_belongs=True,
)


def _say(reason: str, language: str) -> str:
    return explain(
        reason,
        language,
        due=WINTER_DUE,
        time_zone="Europe/Oslo",
        name="Kari Nordmann",
        days=14,
        limit=5,
        cooldown=30,
    )


def _counting(reason: str, language: str, n: int) -> str:
    """The text with ``n`` as the count it shows, and another number for the other counts."""
    counts = dict.fromkeys(("days", "limit", "cooldown"), 14 if n == 1 else 1)
    counts[COUNTED[reason]] = n
    return explain(
        reason, language, days=counts["days"], limit=counts["limit"], cooldown=counts["cooldown"]
    )


def _noun(reason: str, language: str) -> tuple[str, str]:
    return (CASES if COUNTED[reason] == "limit" else DAYS)[language]


def _shows(text: str, n: int, word: str) -> bool:
    """Whether ``text`` shows the number ``n`` followed by exactly ``word``."""
    return re.search(rf"\b{n} {word}\b", text) is not None


def _catalog(language: str) -> Catalog:
    path = LOCALE / language / "LC_MESSAGES" / "direkte.po"
    with path.open("rb") as po:
        return read_po(po, locale=language)


def _template() -> Catalog:
    with (LOCALE / "messages.pot").open("rb") as pot:
        return read_po(pot)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def _forms(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A message's id or string as its forms: one, or singular and plural."""
    return (text,) if isinstance(text, str) else tuple(text)


class TestEveryReason:
    def test_engine_reasons_all_have_texts(self) -> None:
        now = WINTER_DUE
        checks = {
            *(
                f"not_eligible.{c}"
                for c in eligibility(DEFAULT_POLICY, FACTS, now).inputs["checks"]
            ),
            *(f"frequency.{c}" for c in frequency(DEFAULT_POLICY, FACTS, now).inputs["checks"]),
            *(f"appeal.{c}" for c in appeal(DEFAULT_POLICY, FACTS, now).inputs["checks"]),
        }
        produced = checks | {f"routed.tier{t}" for t in (0, 1, 2)}
        produced |= {"appeal_routed", "held", "folded"}
        assert produced == set(REASONS)

    @pytest.mark.parametrize("language", TRANSLATED)
    @pytest.mark.parametrize("reason", REASONS)
    def test_translated_text_differs_from_english(self, reason: str, language: str) -> None:
        text = _say(reason, language)
        assert text.strip()
        assert text != _say(reason, "en")
        assert "{" not in text
        assert "}" not in text

    @pytest.mark.parametrize("reason", REASONS)
    def test_english_text_is_filled_in(self, reason: str) -> None:
        text = _say(reason, "en")
        assert text.strip()
        assert "{" not in text
        assert text != reason

    @pytest.mark.parametrize("reason", REASONS)
    def test_every_text_says_what_happens_next(self, reason: str) -> None:
        # Each names who acts next, when, or what the customer can do.
        english = _say(reason, "en")
        assert any(
            word in english for word in ("will", "can ", "you can", "answers", "is final")
        ), english


class TestDueDate:
    @pytest.mark.parametrize(
        ("language", "shown"),
        [
            ("en", "Thu, Jan 15, 2026 3:00\u202fPM"),
            ("nb", "tor. 15. jan. 2026 15:00"),
            ("da", "tors. 15. jan. 2026 15.00"),
            ("sv", "tors 15 jan. 2026 15:00"),
            ("de", "Do., 15. Jan. 2026 15:00"),
        ],
    )
    @pytest.mark.parametrize("reason", WITH_DUE)
    def test_in_the_customers_locale_and_the_centers_time_zone(
        self, reason: str, language: str, shown: str
    ) -> None:
        assert shown in _say(reason, language)

    def test_summer_time_in_oslo(self) -> None:
        text = explain("routed.tier1", "nb", due=SUMMER_DUE, time_zone="Europe/Oslo", name="K")
        assert "16. juli 2026 16:00" in text

    def test_other_center_time_zone(self) -> None:
        text = explain("routed.tier1", "sv", due=WINTER_DUE, time_zone="Europe/Helsinki", name="K")
        assert "16:00" in text

    def test_name_is_shown(self) -> None:
        assert "Kari Nordmann" in _say("routed.tier2", "da")

    def test_missing_name_shows_a_dash(self) -> None:
        assert "hos —," in explain("routed.tier1", "nb", due=WINTER_DUE)


class TestFallback:
    @pytest.mark.parametrize("language", ["fr", "xx", "", "EN"])
    def test_unknown_language_reads_english(self, language: str) -> None:
        assert _say("routed.tier1", language) == _say("routed.tier1", "en")

    @pytest.mark.parametrize(("tag", "language"), [("nb-NO", "nb"), ("no", "nb"), ("de_AT", "de")])
    def test_regional_tag_reads_its_language(self, tag: str, language: str) -> None:
        assert _say("held", tag) == _say("held", language)

    def test_unknown_reason_reads_as_its_key(self) -> None:
        assert explain("no.such_reason", "nb") == "no.such_reason"

    def test_numbers_are_filled_in(self) -> None:
        assert "14 dager" in _say("not_eligible.within_window", "nb")
        assert "5 Anliegen" in _say("frequency.under_limit", "de")
        assert "30 dage" in _say("frequency.not_cooling_down", "da")


class TestPlurals:
    def test_the_texts_with_a_count_have_a_plural(self) -> None:
        assert {r for r, text in _ENGLISH.items() if not isinstance(text, str)} == set(COUNTED)

    @pytest.mark.parametrize("language", LANGUAGES)
    @pytest.mark.parametrize("reason", COUNTED)
    def test_one_reads_singular(self, reason: str, language: str) -> None:
        singular, plural = _noun(reason, language)
        text = _counting(reason, language, 1)
        assert _shows(text, 1, singular), text
        if plural != singular:
            assert not _shows(text, 1, plural), text

    @pytest.mark.parametrize("n", [3, 14])
    @pytest.mark.parametrize("language", LANGUAGES)
    @pytest.mark.parametrize("reason", COUNTED)
    def test_more_read_plural(self, reason: str, language: str, n: int) -> None:
        singular, plural = _noun(reason, language)
        text = _counting(reason, language, n)
        assert _shows(text, n, plural), text
        if plural != singular:
            assert not _shows(text, n, singular), text

    @pytest.mark.parametrize("language", TRANSLATED)
    @pytest.mark.parametrize("reason", COUNTED)
    def test_singular_is_translated(self, reason: str, language: str) -> None:
        assert _counting(reason, language, 1) != _counting(reason, "en", 1)

    @pytest.mark.parametrize("language", LANGUAGES)
    @pytest.mark.parametrize("reason", REASONS)
    def test_no_text_for_one_shows_a_plural(self, reason: str, language: str) -> None:
        text = explain(reason, language, due=WINTER_DUE, name="K", days=1, limit=1, cooldown=1)
        for singular, plural in (CASES[language], DAYS[language]):
            if plural != singular:
                assert not _shows(text, 1, plural), text

    def test_german_one_day_is_tag(self) -> None:
        assert "bis 1 Tag nach" in _counting("appeal.within_window", "de", 1)
        assert "1 Tag lang" in _counting("frequency.not_cooling_down", "de", 1)


class TestCatalogs:
    def test_template_matches_the_source(self) -> None:
        template = {(m.context, m.id) for m in _template() if m.id}
        assert template == {(reason, text) for reason, text in _ENGLISH.items()}

    @pytest.mark.parametrize("language", TRANSLATED)
    def test_no_untranslated_fuzzy_or_obsolete_entries(self, language: str) -> None:
        catalog = _catalog(language)
        assert not catalog.fuzzy
        entries = [m for m in catalog if m.id]
        assert [m.context for m in entries if not all(_forms(m.string))] == []
        plurals = [m for m in entries if m.pluralizable]
        assert {m.context for m in plurals} == set(COUNTED)
        assert [m.context for m in plurals if len(m.string) != catalog.num_plurals] == []
        assert [m.context for m in entries if m.fuzzy] == []
        assert not catalog.obsolete
        assert {(m.context, m.id) for m in entries} == set(_ENGLISH.items())

    @pytest.mark.parametrize("language", TRANSLATED)
    def test_translations_keep_the_placeholders(self, language: str) -> None:
        for message in _catalog(language):
            if message.id:
                ids, strings = _forms(message.id), _forms(message.string)
                fields = _fields(ids[0])
                assert all(_fields(i) == fields for i in ids), message.context
                assert all(_fields(s) == fields for s in strings), message.context
                assert ("python-brace-format" in message.flags) == bool(fields), message.context
