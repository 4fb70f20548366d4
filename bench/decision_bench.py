"""Guardrail decision latency in-process (issue 5: p99 under 2 ms).

Times `evaluate(policy, facts, now)` over varied facts (all categories, folds,
holds, rejects), `content_facts` (the text screening done per request), and the
phrase screening alone over every text of the labelled evaluation set (target
p99 under 1 ms).

    .venv/bin/python bench/decision_bench.py [--n 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ruamel.yaml import YAML

from direkte.guardrails.content import screen_phrases
from direkte.guardrails.content_facts import content_facts
from direkte.guardrails.engine import Facts, evaluate
from direkte.guardrails.policy import DEFAULT_POLICY

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
EVAL_SET = Path(__file__).parents[1] / "tests" / "guardrails" / "content_eval.yaml"
TEXTS = [
    "The estimate went up by 8000 kroner and nobody called me. This is not acceptable.",
    "Jeg er helt rasende, bilen har stått i tre uker og ingen svarer meg!",
    "Garantien burde dekke dette, bilen har kjørt under 60 000 km.",
    "Prisen er steget meget uden forklaring, jeg vil klage til Forbrugerrådet.",
    "Det här är andra gången samma fel kommer tillbaka.",
    "Das ist eine Frechheit, ich gehe zum Anwalt.",
]


def _facts(rng: random.Random) -> Facts:
    category = rng.choice(["diagnosis", "estimate", "warranty"])
    base = rng.randint(2000, 20000)
    return Facts(
        kind="create",
        category=category,
        program=rng.choice(["pilot", "on", "off"]),
        visit_status=rng.choice(["checked_in", "in_repair", "closed"]),
        visit_checked_in_at=NOW - timedelta(days=rng.randint(0, 20)),
        visit_closed_at=NOW - timedelta(days=rng.randint(0, 20)) if rng.random() < 0.3 else None,
        subject_id=1,
        subject_belongs=rng.random() > 0.05,
        open_case_id=rng.choice([None, None, None, 7]),
        open_case_tier=1,
        similar_case_id=rng.choice([None, 8]),
        similar_case_tier=1,
        similarity=rng.random(),
        cases_last_365_days=rng.randint(0, 6),
        recent_outcomes=tuple(rng.choice(["upheld", "revised"]) for _ in range(rng.randint(0, 3))),
        last_outcome_at=NOW - timedelta(days=rng.randint(1, 60)),
        currency="NOK",
        estimate_total=str(base + rng.randint(0, 9000)),
        first_approved_total=str(base),
        warranty_claimed=str(base),
        warranty_covered="0",
        warranty_decision="not_covered",
        within_coverage=rng.random() < 0.5,
        safety_related=rng.random() < 0.2,
        drivable=rng.random() > 0.1,
        days_since_previous_visit=rng.choice([None, 5, 40]),
        contradicts_previous=rng.random() < 0.1,
        threat=rng.random() < 0.02,
        local_manager_id=1,
        local_open=rng.randint(0, 20),
        deputy_id=2,
        deputy_open=rng.randint(0, 20),
        regional_manager_id=3,
        regional_open=rng.randint(0, 50),
    )


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    rng = random.Random(1)
    facts = [_facts(rng) for _ in range(args.n)]
    for f in facts[:500]:
        evaluate(DEFAULT_POLICY, f, NOW)
    samples = []
    for f in facts:
        started = time.perf_counter()
        evaluate(DEFAULT_POLICY, f, NOW)
        samples.append(time.perf_counter() - started)
    p50, p99, worst = _percentiles(samples)
    print(
        f"evaluate      n={args.n}  p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms"
        f"  (target p99 < 2 ms)"
    )
    for text in TEXTS:
        content_facts(text)
    samples = []
    for i in range(2000):
        text = TEXTS[i % len(TEXTS)] + f" ({i})"
        started = time.perf_counter()
        content_facts(text)
        samples.append(time.perf_counter() - started)
    p50, p99, worst = _percentiles(samples)
    print(
        f"content_facts n=2000  p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms"
        "  (language detection and phrase screening)"
    )
    data = YAML(typ="safe").load(EVAL_SET.read_text("utf-8"))
    texts = [t for labels in data.values() for group in labels.values() for t in group]
    for text in texts:
        screen_phrases(text)
    samples = []
    for _ in range(5):
        for text in texts:
            started = time.perf_counter()
            screen_phrases(text)
            samples.append(time.perf_counter() - started)
    p50, p99, worst = _percentiles(samples)
    print(
        f"screen_phrases n={len(samples)}  p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms"
        "  (the evaluation set's texts; target p99 < 1 ms)"
    )


if __name__ == "__main__":
    main()
