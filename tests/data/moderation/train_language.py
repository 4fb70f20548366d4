"""Train the screen's language guess (direkte/guardrails/language_model.npz).

    .venv/bin/python tests/data/moderation/train_language.py          # choose, train, write
    .venv/bin/python tests/data/moderation/train_language.py --check  # out of fold only

Multinomial naive Bayes over lower-cased words (``language.words``), add-one smoothed,
from the moderation set's training files as parts.toml lists them (the generated set and
the hand-written files; never the test part or the parts kept for later runs). Unlike the
classifier's, this training keeps the few texts the overlap rule (``parts.near_test``)
would leave out: that rule guards the moderation figures, which no language guess can
move here (not one verdict of the 32,638 labelled texts changed when this guess replaced
lingua's), and it costs 45 s a run, which the suite's staleness check would pay. Labels:
each text's ``lang``.

The margin (how far the best language must lead the next before lingua is not asked) is
chosen out of fold: each hand-written file is left out in turn, the rest trained on, and
the file's texts guessed with lingua asked where the words do not decide; the margin with
the fewest wrong guesses over all of them wins (the smallest on a tie). A run takes about
a minute (lingua on every text once). Deterministic: words sorted, float32 logs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from direkte.guardrails import content, language

sys.path.insert(0, str(Path(__file__).parent))  # parts.py beside this file
import parts

HERE = Path(__file__).parent
OUT = HERE.parents[2] / "src" / "direkte" / "guardrails" / language.MODEL_FILE
LANGUAGES = ("en", "nb", "da", "sv", "de")
MARGINS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0)

Labelled = tuple[str, str]  # (language, text)


def files() -> dict[str, list[Labelled]]:
    """The training files' texts, by file name."""
    return {
        path.name: [(r["lang"], r["text"]) for r in parts.rows(path)]
        for path in (parts.GENERATED, *parts.HAND_WRITTEN)
    }


def training_hash(texts: Sequence[Labelled]) -> str:
    """sha256 of the training texts and their labels, in order."""
    digest = hashlib.sha256()
    for lang, text in texts:
        digest.update(f"{lang}\t{text}\n".encode())
    return digest.hexdigest()


def fit(texts: Sequence[Labelled], margin: float) -> language.LanguageModel:
    counts = {lang: Counter[str]() for lang in LANGUAGES}
    for lang, text in texts:
        counts[lang].update(language.words(text))
    vocabulary = sorted(set().union(*counts.values()))
    totals = {lang: sum(counts[lang].values()) + len(vocabulary) for lang in LANGUAGES}
    table = {
        word: tuple(
            float(np.float32(math.log((counts[lang][word] + 1) / totals[lang])))
            for lang in LANGUAGES
        )
        for word in vocabulary
    }
    return language.LanguageModel(LANGUAGES, table, margin, training_hash(texts))


def choose_margin(by_file: dict[str, list[Labelled]]) -> float:
    """The margin with the fewest wrong guesses, each hand-written file guessed by a
    model trained on all the others (lingua asked where the words do not decide)."""
    wrong = dict.fromkeys(MARGINS, 0)
    alone = lingua_wrong = total = 0
    for name, held_out in by_file.items():
        if name == parts.GENERATED.name:
            continue
        model = fit([t for other, rows in by_file.items() if other != name for t in rows], 0.0)
        for lang, text in held_out:
            total += 1
            by_lingua = content.guess_by_lingua(text)
            lingua_wrong += by_lingua != lang
            best, lead = model.best(text)
            alone += best != lang
            for margin in MARGINS:
                found = best if best is not None and lead >= margin else by_lingua
                wrong[margin] += found != lang
    print(f"out of fold: {total} texts; lingua alone {lingua_wrong} wrong, words alone {alone}")
    for margin in MARGINS:
        print(f"  margin {margin:4.1f}: {wrong[margin]} wrong")
    return min(MARGINS, key=lambda m: (wrong[m], m))


def write(model: language.LanguageModel, path: Path) -> None:
    vocabulary = list(model.log_probability)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        languages=np.array(model.languages),
        words=np.frombuffer("\n".join(vocabulary).encode(), dtype=np.uint8),
        log_probability=np.array([model.log_probability[w] for w in vocabulary], np.float32),
        margin=np.array(model.margin),
        training=np.array(model.training),
    )
    path.write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="out of fold only, write nothing")
    args = parser.parse_args()
    by_file = files()
    margin = choose_margin(by_file)
    print(f"margin chosen: {margin}")
    if args.check:
        return
    model = fit([t for rows in by_file.values() for t in rows], margin)
    write(model, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(model.log_probability):,} words)")


if __name__ == "__main__":
    main()
