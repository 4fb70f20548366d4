"""Build the moderation set (moderation_set.jsonl) from the hand-written fragments.

    .venv/bin/python tests/data/moderation/make_set.py

Seeded: the same fragments give the same file. See README.md for how it is made.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).parent
LANGUAGES = ("en", "nb", "da", "sv", "de")
SEED = 16
VARIANTS = {"legitimate": 6}  # per template; 3 for every abuse label
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_WORD = re.compile(r"[^\W\d_]{4,}")


def _fragments(language: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"fragments_{language}", HERE / f"fragments_{language}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _split(position: int) -> str:
    return "test" if position % 2 else "dev"


def _half(pool: list[str], split: str) -> list[str]:
    return [v for i, v in enumerate(pool) if _split(i) == split]


def _fill(template: str, pools: dict[str, list[str]], split: str, rng: random.Random) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: rng.choice(_half(pools[m.group(1)], split)), template)


def _on_a_word(text: str, rng: random.Random, change: object) -> str:
    words = list(_WORD.finditer(text))
    if not words:
        return text
    m = rng.choice(words)
    return text[: m.start()] + change(m.group()) + text[m.end() :]  # type: ignore[operator]


def _leet(word: str) -> str:
    return "".join(_LEET.get(c, c) if c.lower() in _LEET else c for c in word)


def _spaced(word: str) -> str:
    return " ".join(word)


def _asterisk(word: str) -> str:
    inner = [i for i, c in enumerate(word) if c.lower() in "aeiouyæøåäö" and 0 < i < len(word) - 1]
    if not inner:
        return word[0] + "*" + word[2:]
    i = inner[0]
    return word[:i] + "*" + word[i + 1 :]


def _stretch(word: str) -> str:
    i = len(word) // 2
    return word[:i] + word[i] * 3 + word[i:]


def _typo(word: str) -> str:
    i = len(word) // 2
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _obfuscate(text: str, rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["leet", "spaced", "asterisk", "stretch", "caps", "flat", "typo"])
    if kind == "caps":
        return text.upper(), kind
    if kind == "flat":  # chat style: lower case, no punctuation
        return re.sub(r"[.,!?;:]", "", text.lower()), kind
    change = {"leet": _leet, "spaced": _spaced, "asterisk": _asterisk,
              "stretch": _stretch, "typo": _typo}[kind]  # fmt: skip
    return _on_a_word(text, rng, change), kind


def build() -> list[dict[str, str]]:
    main_rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    for language in LANGUAGES:
        fragments = _fragments(language)
        pools, mixed = fragments.POOLS, fragments.MIXED
        extra = getattr(fragments, "DEV_ONLY", {})
        more = getattr(fragments, "DEV_MORE", {})
        groups = (
            [
                (label, f"{position:02d}", _split(position), template)
                for label, templates in fragments.LABELS.items()
                for position, template in enumerate(templates)
            ]
            + [
                (label, f"x{position}", "dev", template)
                for label, templates in extra.items()
                for position, template in enumerate(templates)
            ]
            + [
                (label, f"y{position}", "dev", template)
                for label, templates in more.items()
                for position, template in enumerate(templates)
            ]
        )
        extra_rng = random.Random(f"{SEED}-{language}-dev-only")  # leaves the rest as it was
        more_rng = random.Random(f"{SEED}-{language}-dev-more")  # and so does this one
        for label, position, split, template in groups:
            rng = {"x": extra_rng, "y": more_rng}.get(position[0], main_rng)
            for variant in range(VARIANTS.get(label, 3)):
                text = _fill(template, pools, split, rng)
                style = "plain"
                if variant % 3 == 1:
                    text, style = _obfuscate(text, rng)
                elif variant % 3 == 2:
                    style = "mixed"
                    aside = rng.choice(mixed)
                    text = f"{aside} {text}" if rng.random() < 0.5 else f"{text} {aside}"
                if variant != 1 and rng.random() < 0.5:
                    text = f"{rng.choice(_half(pools['opener'], split))} {text}"
                rows.append(
                    {
                        "id": f"{language}-{label}-{position}-{variant}",
                        "lang": language,
                        "label": label,
                        "split": split,
                        "template": f"{language}-{label}-{position}",
                        "style": style,
                        "text": text,
                    }
                )
    return rows


def main() -> None:
    rows = build()
    with (HERE / "moderation_set.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} texts written")


if __name__ == "__main__":
    main()
