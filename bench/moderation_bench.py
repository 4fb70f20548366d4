"""Moderation set (issue 16): confusion table per language and category, targets, speed.

    .venv/bin/python bench/moderation_bench.py               # the test part (parts.toml)
    .venv/bin/python bench/moderation_bench.py --split dev   # what the screen is tuned on
    .venv/bin/python bench/moderation_bench.py --misses      # print the texts it gets wrong
    .venv/bin/python bench/moderation_bench.py --model F     # with the model file F
    .venv/bin/python bench/moderation_bench.py --against F   # time the model file F too

Recall counts a text of an abuse label as caught when it is held (whatever the
category named); the table shows which category the screen named first.
Targets per language (DESIGN.md §5, issue 16): threats (direct, conditional,
implied), threats to families or homes and doxxing, each and together, recall
>= 0.95; all abuse >= 0.90; legitimate complaints held <= 3%.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from direkte.guardrails import content_model
from direkte.guardrails.categories import CATEGORIES as HOLD_CATEGORIES
from direkte.guardrails.content import MODEL_LIST, screen_phrases

DATA = Path(__file__).parents[1] / "tests" / "data" / "moderation"
# Which text is in the test part and which in the development part (what training
# reads, less the overlap rule's texts): parts.py beside the data decides for the
# trainer, this bench and the suite alike (tests/data/moderation/README.md).
sys.path.insert(0, str(DATA))
import parts  # noqa: E402

LANGUAGES = ("en", "nb", "da", "sv", "de")
THREATS = ("direct_threat", "conditional_threat", "implied_threat")
SEVERE = (*THREATS, "family_threat", "doxxing")
ABUSE = (*SEVERE, "harassment", "slur", "sexual_harassment")
LABELS = (*ABUSE, "legitimate")
TARGETS = {"threats": 0.95, "family_threat": 0.95, "doxxing": 0.95, "severe": 0.95,
           "abuse": 0.90}  # fmt: skip
MAX_LEGIT_HELD = 0.03


def load(split: str) -> list[dict[str, str]]:
    if split == "test":
        return parts.rows_of_test_part()
    if split == "dev":
        return parts.dev_rows()
    return [*parts.dev_rows(), *parts.rows_of_test_part()]


def figures(rows: list[dict[str, str]]) -> dict[str, dict[str, float]]:
    """Per language: recall per group and the share of legitimate texts held."""
    out: dict[str, dict[str, float]] = {}
    for language in LANGUAGES:
        mine = [r for r in rows if r["lang"] == language]
        held = {r["id"]: bool(screen_phrases(r["text"]).categories) for r in mine}

        def recall(
            labels: tuple[str, ...],
            mine: list[dict[str, str]] = mine,
            held: dict[str, bool] = held,
        ) -> float:
            chosen = [r for r in mine if r["label"] in labels]
            return sum(held[r["id"]] for r in chosen) / len(chosen)

        legit = [r for r in mine if r["label"] == "legitimate"]
        out[language] = {
            "threats": recall(THREATS),
            "family_threat": recall(("family_threat",)),
            "doxxing": recall(("doxxing",)),
            "severe": recall(SEVERE),
            "abuse": recall(ABUSE),
            "legitimate_held": sum(held[r["id"]] for r in legit) / len(legit),
        }
    return out


def failures(table: dict[str, dict[str, float]]) -> list[str]:
    """The figures below their targets, as text."""
    wrong = []
    for language, row in table.items():
        wrong += [
            f"{language} {group} recall {row[group]:.3f} < {target}"
            for group, target in TARGETS.items()
            if row[group] < target
        ]
        if row["legitimate_held"] > MAX_LEGIT_HELD:
            wrong.append(f"{language} legitimate held {row['legitimate_held']:.3f}")
    return wrong


def _confusion(rows: list[dict[str, str]], misses: bool) -> None:
    columns = ("pass", *HOLD_CATEGORIES)
    for language in (*LANGUAGES, "all"):
        mine = [r for r in rows if language in ("all", r["lang"])]
        counts: Counter[tuple[str, str]] = Counter()
        by_model: Counter[bool] = Counter()
        for r in mine:
            verdict = screen_phrases(r["text"])
            first = verdict.categories[0] if verdict.categories else "pass"
            counts[r["label"], first] += 1
            if any(e.language == MODEL_LIST for e in verdict.evidence):
                by_model[r["label"] == "legitimate"] += 1
            wrong = (first == "pass") == (r["label"] != "legitimate")
            if misses and wrong and language != "all":
                print(f"  MISS {r['id']} {r['style']}: {r['text']}  -> {verdict.evidence}")
        print(f"\n{language}: label \\ first category held")
        print(f"{'':<20}" + "".join(f"{c[:9]:>10}" for c in columns) + f"{'recall':>9}")
        for label in LABELS:
            n = sum(counts[label, c] for c in columns)
            if not n:
                continue
            caught = n - counts[label, "pass"]
            share = caught / n if label != "legitimate" else counts[label, "pass"] / n
            name = label if label != "legitimate" else "legitimate (pass)"
            print(f"{name:<20}" + "".join(f"{counts[label, c]:>10}" for c in columns)
                  + f"{share:>9.3f}")  # fmt: skip
        print(f"held by the classifier (the lists held nothing): {by_model[False]} abuse, "
              f"{by_model[True]} legitimate")  # fmt: skip


def _speed(rows: list[dict[str, str]]) -> None:
    texts = [r["text"] for r in rows]
    for text in texts:  # warm
        screen_phrases(text)
    print()
    for name, clock in (("wall", time.perf_counter_ns), ("cpu", time.process_time_ns)):
        times = []
        for _ in range(5):
            for text in texts:
                started = clock()
                screen_phrases(text)
                times.append(clock() - started)
        times.sort()
        p50 = statistics.median(times) / 1e6
        p99 = times[int(len(times) * 0.99)] / 1e6
        print(f"screen per text ({name}): p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
              f"max {times[-1] / 1e6:.3f} ms over {len(times)} screens")  # fmt: skip
    code = (
        "import time; t, c = time.perf_counter(), time.process_time()\n"
        "from direkte.guardrails.content import screen_phrases\n"
        "screen_phrases('Jeg vet hvor du bor, og jeg kommer innom i kveld.')\n"
        # the lists hold the first text, so the model is read for the second (the first
        # that reaches it: since run 21; before, the figure left the model's reading out)
        "screen_phrases('The brakes squeal again and nobody calls me back about it.')\n"
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    firsts = [subprocess.check_output([sys.executable, "-c", code]).split() for _ in range(3)]
    print("first screen in a new process (import + lists + screen), wall/cpu: "
          + ", ".join(f"{float(w):.3f}/{float(c):.3f} s" for w, c in firsts))  # fmt: skip


def _use(path: Path) -> content_model.Model:
    """Screen with the model file ``path`` instead of the packaged one (in this process)."""
    with path.open("rb") as file:
        model = content_model.read(file)
    content_model.load = lambda: model  # type: ignore[assignment]
    return model


def _against(rows: list[dict[str, str]], path: Path) -> None:
    """CPU time per screen with the packaged model and with the model file ``path``, in
    the same run: each text screened with one and then the other, in turns."""
    texts = [r["text"] for r in rows]
    models = {"packaged": content_model.load(), path.name: _use(path)}
    times: dict[str, list[int]] = {name: [] for name in models}
    for model in models.values():  # warm both (word caches)
        content_model.load = lambda model=model: model  # type: ignore[assignment]
        for text in texts:
            screen_phrases(text)
    order = list(models.items())
    for round_ in range(4):
        for text in texts:
            for name, model in order if round_ % 2 == 0 else order[::-1]:
                content_model.load = lambda model=model: model  # type: ignore[assignment]
                started = time.process_time_ns()
                screen_phrases(text)
                times[name].append(time.process_time_ns() - started)
    print()
    for name, mine in times.items():
        mine.sort()
        print(f"screen per text (cpu), model {name}: p50 {statistics.median(mine) / 1e6:.4f} ms, "
              f"p99 {mine[int(len(mine) * 0.99)] / 1e6:.4f} ms, "
              f"mean {statistics.fmean(mine) / 1e6:.4f} ms over {len(mine)} screens")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--model", type=Path, help="screen with this model file")
    parser.add_argument("--against", type=Path, help="time this model file beside")
    args = parser.parse_args()
    if args.against:
        _against(load(args.split), args.against)
        return
    if args.model:
        _use(args.model)
    rows = load(args.split)
    print(f"moderation set, split {args.split}: {len(rows)} texts")
    _confusion(rows, args.misses)
    table = figures(rows)
    print(f"\n{'lang':<6}" + "".join(f"{k:>17}" for k in next(iter(table.values()))))
    for language, row in table.items():
        print(f"{language:<6}" + "".join(f"{v:>17.3f}" for v in row.values()))
    wrong = failures(table)
    print("\ntargets: " + ("all met" if not wrong else "MISSED: " + "; ".join(wrong)))
    if not args.no_speed:
        _speed(load("all"))


if __name__ == "__main__":
    main()
