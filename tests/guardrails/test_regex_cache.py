"""The on-disk regex cache gives the patterns ``re.compile`` gives, or falls back to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from direkte.guardrails import content, regex_cache

SOURCES = ["(?P<p0>kil+ you)|(?P<p1>idiot[a-z]*)", r"(?<![a-z0-9])(?:ae|[a-z])\.", "x"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DIREKTE_CACHE_DIR", str(folder))
    return folder


def compile_counted(key: str, builds: list[int]) -> list[re.Pattern[str]]:
    def build() -> list[str]:
        builds.append(1)
        return list(SOURCES)

    data, patterns = regex_cache.compile_cached("test", key, build, lambda d: d)
    assert data == SOURCES
    return patterns


class TestCompileCached:
    def test_warm_call_reads_the_file_and_gives_equal_patterns(self, cache: Path) -> None:
        builds: list[int] = []
        cold = compile_counted("k1", builds)
        warm = compile_counted("k1", builds)
        assert builds == [1]  # built once, then read
        expected = [re.compile(s) for s in SOURCES]
        assert cold == expected  # Pattern equality compares the compiled code
        assert warm == expected
        assert warm[0].groupindex == {"p0": 1, "p1": 2}
        assert warm[0].match("kill you").lastgroup == "p0"

    def test_new_key_rebuilds_and_removes_the_old_file(self, cache: Path) -> None:
        builds: list[int] = []
        compile_counted("k1", builds)
        compile_counted("k2", builds)
        assert builds == [1, 1]
        assert [p.name for p in cache.iterdir()] == ["test-k2.marshal"]

    def test_damaged_file_is_rebuilt(self, cache: Path) -> None:
        builds: list[int] = []
        compile_counted("k1", builds)
        (cache / "test-k1.marshal").write_bytes(b"\x00 not marshal")
        assert compile_counted("k1", builds) == [re.compile(s) for s in SOURCES]
        assert builds == [1, 1]

    def test_unwritable_folder_compiles_uncached(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        blocked = tmp_path / "a-file"
        blocked.write_text("")
        monkeypatch.setenv("DIREKTE_CACHE_DIR", str(blocked))
        builds: list[int] = []
        assert compile_counted("k1", builds) == [re.compile(s) for s in SOURCES]
        assert compile_counted("k1", builds) == [re.compile(s) for s in SOURCES]
        assert builds == [1, 1]

    def test_fingerprint_changes_with_every_part(self) -> None:
        assert regex_cache.fingerprint(b"a", b"b") == regex_cache.fingerprint(b"a", b"b")
        assert regex_cache.fingerprint(b"a", b"b") != regex_cache.fingerprint(b"a", b"c")
        assert regex_cache.fingerprint(b"ab") != regex_cache.fingerprint(b"a", b"b")


class TestPhraseListsFromTheCache:
    def test_every_phrase_regex_read_back_equals_re_compile(self, cache: Path) -> None:
        texts = {
            language: (Path(content.__file__).parent / "phrases" / f"{language}.txt").read_text()
            for language in content.LANGUAGES
        }
        for _ in range(2):  # cold (written), then warm (read back)
            plan, patterns = regex_cache.compile_cached(
                "phrases", "k", lambda: content._plan(texts), content._regex_sources
            )
        sources = content._regex_sources(plan)
        assert len(list(cache.iterdir())) == 1
        assert [p.pattern for p in patterns] == sources
        assert patterns == [re.compile(s) for s in sources]
        lists = content._assemble(plan, patterns)
        assert [p.source for p in lists.phrases] == [p.source for p in content._lists().phrases]
