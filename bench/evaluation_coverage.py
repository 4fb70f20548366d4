"""Does the evaluation recover the truth? Over many seeds of a small simulated network
(in memory), how often the 95% interval covers the true effect, and how far the estimate
lands from it; for same-day resolution and for escalations per 100 visits.

    .venv/bin/python bench/evaluation_coverage.py [--seeds 100] [--centers 50] [--weeks 52]

Prints a Markdown table (docs/figures.md, "Evaluation") and exits 1 when coverage falls
outside 90-98% or the mean absolute error reaches a tenth of the effect.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from direkte.evaluation import did
from direkte.evaluation.simulation import simulate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--centers", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--visits-per-week", type=int, default=150)
    parser.add_argument("--effect", type=float, default=0.05)
    parser.add_argument("--escalation-effect", type=float, default=-1.0)
    parser.add_argument("--n-boot", type=int, default=999)
    args = parser.parse_args()
    truths = {"same_day_resolution": args.effect, "escalation_rate": args.escalation_effect}
    rows = {name: ([], [], []) for name in truths}  # estimates, covered, widths
    started = time.perf_counter()
    for seed in range(args.seeds):
        history = simulate(
            centers=args.centers,
            weeks=args.weeks,
            visits=args.centers * args.weeks * args.visits_per_week,
            effect=args.effect,
            escalation_effect=args.escalation_effect,
            seed=seed,
        )
        for name, truth in truths.items():
            result = did.evaluate(
                history.panel(name),
                seed=seed,
                n_boot=args.n_boot,
                higher_is_better=name == "same_day_resolution",
            )
            if result.estimate is None or result.ci is None:
                raise SystemExit(f"seed {seed}: {result.reason}")
            estimates, covered, widths = rows[name]
            estimates.append(result.estimate)
            covered.append(result.ci[0] <= truth <= result.ci[1])
            widths.append(result.ci[1] - result.ci[0])
    elapsed = time.perf_counter() - started
    print(
        f"{args.seeds} seeds, {args.centers} centers x {args.weeks} weeks, "
        f"{args.visits_per_week} visits a center a week, {args.n_boot} bootstrap samples, "
        f"{elapsed:.1f} s\n"
    )
    print(
        "| figure | true effect | mean estimate | mean abs. error | error / effect "
        "| 95% interval covers truth | mean interval width |"
    )
    print("|---|---|---|---|---|---|---|")
    ok = True
    for name, truth in truths.items():
        estimates, covered, widths = (np.array(v) for v in rows[name])
        mae = float(np.abs(estimates - truth).mean())
        coverage = float(covered.mean())
        print(
            f"| {name} | {truth:+.3f} | {estimates.mean():+.4f} | {mae:.4f} "
            f"| {mae / abs(truth):.3f} | {100 * coverage:.0f}% | {widths.mean():.4f} |"
        )
        ok = ok and 0.90 <= coverage <= 0.98 and mae < abs(truth) / 10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
