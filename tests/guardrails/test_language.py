"""The screen's language guess by words (guardrails/language.py), lingua where they do
not decide: trained from the training set as it is, never from the test part, and at
least as right as lingua on the test part's unseen writers."""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType

import pytest

from direkte.guardrails import content, content_facts, language
from tests.guardrails import moderation_scripts


@pytest.fixture(scope="module")
def train() -> ModuleType:
    return moderation_scripts.load("train_language")


class TestShippedModel:
    def test_trained_from_the_training_set_as_it_is(self, train: ModuleType) -> None:
        # A training file added, moved or edited without training again
        # (tests/data/moderation/train_language.py) fails here.
        texts = [t for rows in train.files().values() for t in rows]
        assert language.load().training == train.training_hash(texts)

    def test_never_trained_on_the_test_part(self, train: ModuleType) -> None:
        names = set(train.files())
        assert train.parts.TEST.name not in names
        assert not names & {path.name for path in train.parts.NEXT}

    def test_written_and_read_back_unchanged(self, train: ModuleType, tmp_path: Path) -> None:
        model = train.fit([("en", "the brakes squeal"), ("da", "bremserne hviner")], 2.0)
        path = tmp_path / "model.npz"
        train.write(model, path)
        assert language.read(io.BytesIO(path.read_bytes())) == model


class TestGuess:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("The garage quoted me one price and then billed me twice that.", "en"),
            ("Verkstedet har ikke ringt meg, og nå er regningen dobbelt så høy.", "nb"),
            ("Værkstedet har ikke ringet, og nu er regningen dobbelt så høj.", "da"),
            ("Verkstaden har inte ringt mig och nu är fakturan dubbelt så hög.", "sv"),
            ("Die Werkstatt hat nicht angerufen und jetzt ist die Rechnung doppelt so hoch.", "de"),
        ],
    )
    def test_the_words_decide(self, text: str, expected: str) -> None:
        assert language.load().guess(text) == expected
        assert content.detect_language(text) == expected

    def test_lingua_where_no_word_is_known(self) -> None:
        text = "Zqxwvbrolp fnurdiquax"
        assert language.load().best(text) == (None, 0.0)
        assert content.detect_language(text) == content.guess_by_lingua(text)

    def test_lingua_where_the_words_do_not_decide(self) -> None:
        model = language.load()
        text = "bil"  # the same word in nb, da and sv: no lead
        _, lead = model.best(text)
        assert lead < model.margin
        assert model.guess(text) is None
        long_enough = "bil bil bil bil"
        assert content.detect_language(long_enough) == content.guess_by_lingua(long_enough)

    def test_numbers_and_codes_say_nothing(self) -> None:
        assert language.words("Ref 4471-AB: VIN WVW1234, 12 000 kr") == [
            "ref",
            "ab",
            "vin",
            "wvw",
            "kr",
        ]


class TestOnTheTestPart:
    def test_at_least_as_right_as_lingua(self, train: ModuleType) -> None:
        rows = train.parts.rows(train.parts.TEST)
        ours = sum(content.detect_language(r["text"]) == r["lang"] for r in rows)
        by_lingua = sum(content.guess_by_lingua(r["text"]) == r["lang"] for r in rows)
        print(f"\nlanguage right on the test part: words {ours}, lingua {by_lingua} of {len(rows)}")
        assert ours >= by_lingua
        assert ours >= 0.98 * len(rows)


def test_warm_up_builds_linguas_detectors() -> None:
    # A text the words do not decide must not build lingua inside a request.
    content._detector.cache_clear()
    content_facts.warm_up()
    assert content._detector.cache_info().currsize == 2
