"""Start-up: time to the first text screening in a new process (issue 11: under 0.5 s).

Each measurement is a fresh interpreter, timed from before ``import
direkte.guardrails.content`` to the end of the first screening, in four rounds:

* ``uncached``: no usable cache folder (what every process paid before the cache);
* ``cold``: an empty cache folder (the first process after an install or a change
  of the phrase lists: builds, then writes the cache);
* ``warm``: the cache written by the cold round (every later process);
* ``warm + language``: the whole ``screen`` (phrases and lingua's language
  detection), warm cache: lingua loads its models at the first detection.

Fails (exit 1) when the warm phrase screening's median is over 0.5 s.

    .venv/bin/python bench/startup_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_S = 0.5
TEXT = "Jeg er helt rasende, bilen har stått i tre uker og ingen svarer meg!"
CHILD = """
import sys, time
started = time.perf_counter()
from direkte.guardrails import content
getattr(content, sys.argv[1])(sys.argv[2])
print(time.perf_counter() - started)
"""


def first_screening(function: str, cache: Path) -> float:
    """Seconds from import to the end of the first ``function`` call, in a new process."""
    env = {**os.environ, "DIREKTE_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, function, TEXT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    rounds: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        blocked = Path(tmp) / "not-a-folder"
        blocked.write_text("a file where the cache folder would be: nothing is cached\n")
        rounds["uncached"] = [first_screening("screen_phrases", blocked) for _ in range(runs)]
        cold, warm = [], []
        for run in range(runs):
            cache = Path(tmp) / f"cache-{run}"
            cold.append(first_screening("screen_phrases", cache))
            warm.append(first_screening("screen_phrases", cache))
        rounds["cold"], rounds["warm"] = cold, warm
        rounds["warm + language"] = [
            first_screening("screen", Path(tmp) / "cache-0") for _ in range(runs)
        ]
        size = sum(f.stat().st_size for f in (Path(tmp) / "cache-0").iterdir())
    print(f"time to first screening, {runs} fresh processes each (seconds)")
    print(f"{'round':<18} {'median':>7} {'min':>7} {'max':>7}")
    for name, times in rounds.items():
        print(f"{name:<18} {statistics.median(times):7.3f} {min(times):7.3f} {max(times):7.3f}")
    print(f"cache file: {size / 1e6:.1f} MB")
    warm_median = statistics.median(rounds["warm"])
    if warm_median > TARGET_S:
        print(f"FAIL: warm phrase screening {warm_median:.3f} s > {TARGET_S} s")
        return 1
    print(f"ok: warm phrase screening {warm_median:.3f} s <= {TARGET_S} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
