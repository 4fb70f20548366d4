"""Time the evaluation over two years of 200 centers (docs/performance.md, "Evaluation").

    .venv/bin/python bench/evaluation_bench.py [--centers 200] [--weeks 104] [--n-boot 999]

The panel comes from the in-memory simulator (10,000,000 visits' worth of weekly
figures); the timing is did.evaluate alone (the estimate, 999 center-bootstrap fits,
the pre-period gaps), the median and the slowest of --runs runs. Exit 1 over 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from direkte.evaluation import did
from direkte.evaluation.simulation import simulate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--centers", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--n-boot", type=int, default=999)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    history = simulate(centers=args.centers, weeks=args.weeks, visits=args.visits, seed=1)
    panel = history.panel()
    made = time.perf_counter() - started
    times = []
    for run in range(args.runs):
        started = time.perf_counter()
        result = did.evaluate(panel, seed=run, n_boot=args.n_boot)
        times.append(time.perf_counter() - started)
    print(
        f"{args.centers} centers x {args.weeks} weeks ({args.visits:,} simulated visits, "
        f"panel made in {made:.1f} s), {args.n_boot} bootstrap samples, {args.runs} runs"
    )
    print(
        f"evaluate: median {statistics.median(times):.2f} s, slowest {max(times):.2f} s; "
        f"estimate {result.estimate:.4f} (truth {history.effect}), ci {result.ci}, "
        f"{result.recommendation}"
    )
    return 0 if statistics.median(times) < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
