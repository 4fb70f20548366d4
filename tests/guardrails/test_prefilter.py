"""The lists' prefilter (Hyperscan) changes how soon the phrases are found, never which:
over every labelled text the hits are the same with it and without it; it passes over
nearly every legitimate text; it is cached on disk, read back, rebuilt when its file is
damaged, and built in the background for a serving process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from direkte.guardrails import content, prefilter

pytestmark = pytest.mark.skipif(not prefilter.AVAILABLE, reason="no Hyperscan wheel here")

DATA = Path(__file__).resolve().parents[1] / "data" / "moderation"


def _texts() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            found.append((row["label"], row["text"]))
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[prefilter.Prefilter]:
    """The prefilter compiled into an empty cache folder (once for the module)."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIREKTE_CACHE_DIR", str(folder))
        found = prefilter.build(content._phrase_regexes())
        assert found is not None
        yield found


@pytest.fixture
def without_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content._Prefilters, "read", True)
    monkeypatch.setattr(content._Prefilters, "current", None)


def _hits_with(found: prefilter.Prefilter | None, text: str) -> list[tuple[str, str]]:
    content._Prefilters.current = found
    return [(phrase.source, words) for phrase, words in content._hits(content._normalize(text))]


def test_the_hits_are_the_same_with_and_without_it(
    built: prefilter.Prefilter, without_prefilter: None
) -> None:
    texts = _texts()
    assert len(texts) > 30_000
    passed_over = {"legitimate": 0, "other": 0}
    counted = {"legitimate": 0, "other": 0}
    for label, text in texts:
        kind = "legitimate" if label == "legitimate" else "other"
        counted[kind] += 1
        slow = _hits_with(None, text)
        assert _hits_with(built, text) == slow, text
        normalized = content._normalize(text)
        readings = (normalized.text, *normalized.alternates)
        if not any(built.may_match(f" . {reading} . ") for reading in readings):
            passed_over[kind] += 1
    # it earns its keep: nearly every legitimate text is passed over in one scan
    assert passed_over["legitimate"] / counted["legitimate"] > 0.95
    assert passed_over["other"] / counted["other"] < 0.8  # and abuse is read by the lists


def test_a_reading_it_passes_over_holds_no_phrase(built: prefilter.Prefilter) -> None:
    assert not built.may_match(" . the estimate is far higher than quoted . ")
    assert built.may_match(" . i know where you live . ")
    assert built.may_match(" . you are an idiot . ")


def test_it_is_read_back_from_its_cache_file_and_rebuilt_when_damaged(
    built: prefilter.Prefilter, caplog: pytest.LogCaptureFixture
) -> None:
    regexes = content._phrase_regexes()  # the module's cache folder is still set
    again = prefilter.cached(regexes)
    assert again is not None
    assert again.may_match(" . i know where you live . ")
    assert prefilter.cached(["(?:other)"]) is None  # other regexes: another file
    prefilter._path(regexes).write_bytes(b"not a database")
    assert prefilter.cached(regexes) is None  # then the lists are read without it
    assert "refused" in caplog.text


def test_threads_scan_at_once(built: prefilter.Prefilter) -> None:
    texts = [" . i know where you live . ", " . the brakes squeal again . "] * 200
    answers: list[list[bool]] = []

    def scan() -> None:
        answers.append([built.may_match(t) for t in texts])

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [[True, False] * 200] * 4


def test_a_serving_process_builds_it_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, without_prefilter: None
) -> None:
    monkeypatch.setenv("DIREKTE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(content._Prefilters, "read", False)
    monkeypatch.setattr(content._Prefilters, "building", None)
    thread = content.build_prefilter()
    assert thread is not None
    assert content.build_prefilter() is thread  # one build at a time
    held = content.screen_rules("Jeg vet hvor du bor.")  # read meanwhile, by the lists alone
    thread.join(timeout=120)
    assert content._Prefilters.current is not None
    assert content.screen_rules("Jeg vet hvor du bor.") == held
    assert list(tmp_path.glob("prefilter-*.hsdb"))
    assert content.build_prefilter() is None  # there now: nothing to build
