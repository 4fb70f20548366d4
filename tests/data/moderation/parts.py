"""Issue 16's moderation data by part (parts.toml): the test part, and the development
part (what training reads), less the overlap rule's texts.

train_model.py, bench/moderation_bench.py and tests/guardrails read the data through
this module only, so that they agree on which text is in which part:

* the **test part**: parts.toml's ``test`` file, measured once per run;
* the **development part**: the generated set and the hand-written files, **less every
  text near a test-part text** (``near_test``): the overlap rule. A text left out by
  the rule is neither trained on nor shown as development data (the bench's
  ``--misses`` would otherwise print a near-twin of a test text).
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).parent
PARTS = tomllib.loads((HERE / "parts.toml").read_text("utf-8"))
TEST = HERE / PARTS["test"]
GENERATED = HERE / PARTS["generated"]
HAND_WRITTEN = tuple(HERE / name for name in PARTS["hand_written"])
NEXT = tuple(HERE / name for name in PARTS["next"])

# The overlap rule (README.md): a training text whose word set has a Jaccard similarity
# over this with the word set of a test-part text is left out, by rule and unread, so
# that no test text is scored by a model that read its near-twin.
MAX_SHARED_WITH_TEST = 0.5
_WORD = re.compile(r"\w+")

Row = dict[str, str]


def rows(path: Path) -> list[Row]:
    """A data file's rows as written."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def words(text: str) -> frozenset[str]:
    """A text's word set (lower case), as the overlap rule compares them."""
    return frozenset(_WORD.findall(text.lower()))


class Near:
    """Which texts are near any of a set of texts (Jaccard of word sets over
    MAX_SHARED_WITH_TEST), by an index from word to the texts that hold it."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = [words(t) for t in texts]
        self._index: dict[str, list[int]] = {}
        for number, mine in enumerate(self._texts):
            for word in mine:
                self._index.setdefault(word, []).append(number)

    def __call__(self, text: str) -> bool:
        mine = words(text)
        shared = Counter(n for word in mine for n in self._index.get(word, ()))
        return any(
            count / len(mine | self._texts[n]) > MAX_SHARED_WITH_TEST for n, count in shared.items()
        )


@functools.cache
def _near_test() -> Near:
    return Near(r["text"] for r in rows(TEST))


def near_test(text: str) -> bool:
    """Whether the overlap rule leaves ``text`` out of training (near a test-part text)."""
    return _near_test()(text)


def rows_of_test_part() -> list[Row]:
    """The test part."""
    return rows(TEST)


def dev_files() -> tuple[Path, ...]:
    """The development part's files: the generated set, then the hand-written ones."""
    return (GENERATED, *HAND_WRITTEN)


@functools.cache
def _dev_rows() -> tuple[Row, ...]:
    return tuple(r for path in dev_files() for r in rows(path) if not near_test(r["text"]))


def dev_rows() -> list[Row]:
    """The development part: every text of its files the overlap rule keeps (read and
    sifted once per process: the rule looks at some 20,000 texts)."""
    return list(_dev_rows())
