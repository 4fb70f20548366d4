"""The moderation set of issue 16 (tests/data/moderation): the screen's figures on its
test part stay at or above their floors (recall) and at or below their ceilings (the
legitimate texts held), and every hold names its category and words.

The test part (tests/data/moderation/parts.toml) was written blind by independent
writers; the screen is tuned and trained on the other parts only (the generated set,
the hand-written dev files and the test parts of earlier runs); see
tests/data/moderation/README.md.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections import Counter

import pytest

from direkte.guardrails import content
from tests.guardrails import moderation_scripts
from tests.guardrails.moderation_scripts import DATA

parts = moderation_scripts.load("parts", "moderation_parts")  # which text is in which part
SET = parts.GENERATED
DEV3 = DATA / "dev3.jsonl"
TEST_PART = parts.TEST
LANGUAGES = ("en", "nb", "da", "sv", "de")
THREATS = ("direct_threat", "conditional_threat", "implied_threat")
SEVERE = (*THREATS, "family_threat", "doxxing")
ABUSE = (*SEVERE, "harassment", "slur", "sexual_harassment")
# DESIGN.md §5 and issue 16, per language on the test split.
SEVERE_RECALL = 0.95
ABUSE_RECALL = 0.90
LEGIT_HELD = 0.03


def _rows(part: str) -> list[dict[str, str]]:
    """The test part or the development part (what training reads)."""
    return list(parts.rows_of_test_part() if part == "test" else parts.dev_rows())


def _recall(rows: list[dict[str, str]], labels: tuple[str, ...]) -> float:
    chosen = [r for r in rows if r["label"] in labels]
    return sum(content.screen_phrases(r["text"]).categories != () for r in chosen) / len(chosen)


# The generated set's old test split as it was made once (README.md): regenerating the
# set after adding dev texts must leave it byte for byte as it is. The test part is
# pinned as a whole.
TEST_SPLIT_SHA256 = "569a7fa4ea30f2d33d93efb9e3f0c31e3a91710a4f347dd8f95cb698fc32a9a7"
TEST_PART_SHA256 = "578156cd82e2bbc9d6f1e163a31602cc0fbd6e9b4378ae2681c9538d47605cc8"


class TestSet:
    def test_test_split_never_changes(self) -> None:
        lines = SET.read_text("utf-8").splitlines()
        test = "".join(f"{line}\n" for line in lines if json.loads(line)["split"] == "test")
        assert hashlib.sha256(test.encode()).hexdigest() == TEST_SPLIT_SHA256

    def test_test_part_never_changes(self) -> None:
        assert TEST_PART.name == "holdout19.jsonl"
        assert hashlib.sha256(TEST_PART.read_bytes()).hexdigest() == TEST_PART_SHA256

    def test_overlap_rule_at_its_line(self) -> None:
        near = parts.Near(["one two three four five six seven eight nine ten"])
        # 5 of 10 words shared, 5 of 10 different: Jaccard 5 / 15
        assert not near("one two three four five a b c d e")
        # 9 shared, 1 more: Jaccard 9 / 11 = 0.82
        assert near("one two three four five six seven eight nine eleven")
        # 6 shared of 6: Jaccard 6 / 10 = 0.6; of 5 shared: 5 / 10 = 0.5, not over
        assert near("One, two, three, four, five, six.")
        assert not near("one two three four five")
        assert not near("")

    def test_no_development_text_near_a_test_text(self) -> None:
        dev = {r["text"] for r in _rows("dev")}
        left_out = [
            r["text"]
            for path in parts.dev_files()
            for r in parts.rows(path)
            if r["text"] not in dev
        ]
        assert all(parts.near_test(t) for t in left_out)
        # spot check by brute force: the development texts that share the most words
        # with some test text still share at most half of them (Jaccard)
        tests = [parts.words(r["text"]) for r in _rows("test")]
        for text in list(dev)[::50]:
            mine = parts.words(text)
            assert all(len(mine & t) <= 0.5 * len(mine | t) for t in tests if mine | t)

    def test_every_data_file_is_in_one_part(self) -> None:
        named = [parts.TEST, *parts.NEXT, parts.GENERATED, *parts.HAND_WRITTEN]
        assert len(named) == len(set(named))
        assert set(named) == set(DATA.glob("*.jsonl"))

    def test_large_balanced_and_split_by_template(self) -> None:
        rows = _rows("dev") + _rows("test")
        assert len(rows) >= 1200
        assert len(_rows("test")) >= 600
        per_language = Counter(r["lang"] for r in rows)
        assert set(per_language) == set(LANGUAGES)
        assert min(per_language.values()) >= 240
        labels = Counter(r["label"] for r in rows)
        assert set(labels) == {*ABUSE, "legitimate"}
        assert labels["legitimate"] * 2 >= len(rows) * 0.85  # about as many as abuse
        # the test part: about as many legitimate texts as abusive ones, and enough of
        # each per language to tell the 3 % target (holdout10: 104 legitimate and 136
        # abusive a language, 20 of each threat category and doxxing)
        test = Counter(r["label"] == "legitimate" for r in _rows("test"))
        assert 0.75 <= test[True] / test[False] <= 1.34
        legitimate = Counter(r["lang"] for r in _rows("test") if r["label"] == "legitimate")
        assert min(legitimate[language] for language in LANGUAGES) >= 60
        templates = {split: {r["template"] for r in _rows(split)} for split in ("dev", "test")}
        assert not templates["dev"] & templates["test"]
        texts = {split: {r["text"] for r in _rows(split)} for split in ("dev", "test")}
        assert not texts["dev"] & texts["test"]


def _figures(language: str) -> dict[str, float]:
    rows = [r for r in _rows("test") if r["lang"] == language]
    return {
        "threats": _recall(rows, THREATS),
        "family_threat": _recall(rows, ("family_threat",)),
        "doxxing": _recall(rows, ("doxxing",)),
        "severe": _recall(rows, SEVERE),
        "abuse": _recall(rows, ABUSE),
        "legitimate_held": _recall(rows, ("legitimate",)),
    }


# The figures on the test part (FLOORS_PART) as measured when the lists or the
# classifier were last changed or the test part moved (docs/guardrails.md: run 23, the
# linear model and the network with screen 6, measured once on holdout19, 240 texts a
# language, 2026-12-07 eighteenth session): a change that loses any fails here, and so
# does one that holds more legitimate texts than then (CEILINGS). While parts.toml names
# another test part (a run planned, its part not yet measured), the floors and the
# targets are not checked: the suite must not measure a test part before its run's one
# measurement.
FLOORS_PART = "holdout19.jsonl"
FIGURES = ("threats", "family_threat", "doxxing", "severe", "abuse")
FLOORS = {
    "en": dict(zip(FIGURES, (0.883, 0.900, 1.000, 0.910, 0.919), strict=True)),
    "nb": dict(zip(FIGURES, (0.950, 0.900, 0.950, 0.940, 0.948), strict=True)),
    "da": dict(zip(FIGURES, (0.866, 0.800, 1.000, 0.880, 0.904), strict=True)),
    "sv": dict(zip(FIGURES, (0.783, 1.000, 0.900, 0.850, 0.867), strict=True)),
    "de": dict(zip(FIGURES, (0.816, 0.850, 0.900, 0.840, 0.882), strict=True)),
}
# The legitimate texts held, of 104 a language: en 3 (2.9 %), da, sv and de 2 (1.9 %),
# nb 1 (1.0 %): every language within the 3 % target.
CEILINGS = {"en": 0.029, "nb": 0.01, "da": 0.02, "sv": 0.02, "de": 0.02}


def _floors_apply() -> None:
    if TEST_PART.name != FLOORS_PART:
        pytest.skip(f"the floors were pinned on {FLOORS_PART}; the test part is now "
                    f"{TEST_PART.name}, to be measured once by its run")  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
class TestTestSplit:
    def test_no_figure_falls_below_its_floor(self, language: str) -> None:
        _floors_apply()
        figures = _figures(language)
        for name, floor in FLOORS[language].items():
            assert figures[name] >= floor, name

    def test_no_more_legitimate_complaints_held_than_pinned(self, language: str) -> None:
        _floors_apply()
        assert _figures(language)["legitimate_held"] <= CEILINGS[language]


@pytest.mark.xfail(
    strict=True,
    reason="on texts of other writers (holdout19, run 23) no language meets every target: "
    "threats 0.78-0.95 (met in nb), family threats 0.80-1.00 (met in sv), doxxing 0.90-1.00 "
    "(met in en, nb and da), severe 0.84-0.94 (met nowhere), all abuse 0.87-0.95 (met in "
    "en, nb and da), legitimate held 1.0-2.9 % (met in every language); docs/guardrails.md. "
    "When this passes, remove the mark",
)
def test_recall_targets_met_in_every_language() -> None:
    _floors_apply()
    short = []
    for language in LANGUAGES:
        figures = _figures(language)
        short += [
            f"{language} {name} {figures[name]:.3f}"
            for name in ("threats", "family_threat", "doxxing", "severe")
            if figures[name] < SEVERE_RECALL
        ]
        if figures["abuse"] < ABUSE_RECALL:
            short.append(f"{language} abuse {figures['abuse']:.3f}")
        if figures["legitimate_held"] > LEGIT_HELD:
            short.append(f"{language} legitimate held {figures['legitimate_held']:.3f}")
    assert not short, "; ".join(short)


class TestHoldsNameCategoryAndEvidence:
    @pytest.mark.parametrize(
        ("text", "category", "words"),
        [
            ("If my car isn't fixed, I'll make your mechanic bleed.", "threat", "make"),
            ("Jeg vet hvilken skole ungene til Per går på.", "family_threat", "skole"),
            ("Die Privatnummer von Jonas ist 0176 2233 4455, ruft an.", "doxxing", "0176"),
            ("Jag ringer hans privata mobil varje natt.", "harassment", "mobil"),
            ("I er utøj, hver og en af jer.", "abuse", "utoj"),
            ("Your receptionist is sexy, I want to see her naked.", "sexual_harassment", "naked"),
        ],
    )
    def test_category_and_words(self, text: str, category: str, words: str) -> None:
        found = content.screen_phrases(text)
        assert category in found.categories
        evidence = [e for e in found.evidence if e.category == category]
        assert evidence
        assert any(words in e.words for e in evidence)

    def test_obfuscated_threat_held(self) -> None:
        for text in (
            "i'll k1ll your m3chanic",
            "I'll s t a b him",
            "I will st*b him",
            "ill klil him",
        ):
            assert content.screen_phrases(text).threat, text

    def test_match_round_trip(self) -> None:
        found = content.screen_phrases("I know where your kids go to school.")
        for evidence in found.evidence:
            assert content.parse_match(evidence.as_match()) == evidence
        assert content.parse_match("not a match") is None


class TestSpeed:
    def test_first_screen_in_a_new_process(self) -> None:
        # CPU time of the new process: import, lists from the regex cache, first screen
        # (wall time on a shared machine measures the neighbours).
        code = (
            "import time; t = time.process_time()\n"
            "from direkte.guardrails.content import screen_phrases\n"
            "screen_phrases('Jeg vet hvor du bor.')\n"
            # held by the lists: the model is read for the next text (since run 21)
            "screen_phrases('The brakes squeal again and nobody calls me back about it.')\n"
            "print(time.process_time() - t)"
        )
        subprocess.run([sys.executable, "-c", code], check=True)  # warms the regex cache
        best = min(float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(2))
        assert best < 0.5

    def test_screening_is_fast_in_process(self) -> None:
        # CPU time per text, the least of three screens: the text's own cost, not what
        # the machine's neighbours did to one of them (it is shared; issue 16's target:
        # under 2 ms at the 99th percentile)
        # The suite times the texts the target was first measured on (the generated set
        # and dev3: app messages of one to three sentences); the longer hand-written
        # texts of dev4 and dev6 (up to 400 characters) are slower at the 99th
        # percentile: bench/moderation_bench.py and docs/guardrails.md give both.
        texts = [r["text"] for r in parts.rows(SET) + parts.rows(DEV3)]
        times = [2**62] * len(texts)
        for _ in range(3):
            for number, text in enumerate(texts):
                started = time.process_time_ns()
                content.screen_phrases(text)
                times[number] = min(times[number], time.process_time_ns() - started)
        times.sort()
        assert times[int(len(times) * 0.99)] < 2_000_000, times[int(len(times) * 0.99)]
