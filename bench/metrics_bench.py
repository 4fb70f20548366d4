"""Time `GET /api/v1/metrics`'s use case over a quarter on a simulated network (PostgreSQL).

Usage: DIREKTE_DATABASE_URL=postgresql://... python bench/metrics_bench.py FROM TO [RUNS]
(after `direkte simulate` and `direkte figures rebuild --from FROM --to TO`). Prints the
p50 of RUNS runs for the whole network and grouped by center, region and week.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date

from direkte.analytics.service import read_metrics
from direkte.clock import SystemClock
from direkte.db import make_engine, make_sessionmaker


def main() -> None:
    first, last = date.fromisoformat(sys.argv[1]), date.fromisoformat(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    engine = make_engine(os.environ["DIREKTE_DATABASE_URL"])
    factory = make_sessionmaker(engine)
    for group_by in (None, "center", "region", "week"):
        times = []
        for _ in range(runs):
            with factory() as session:
                start = time.perf_counter()
                result = read_metrics(
                    session, SystemClock(), None, date_from=first, date_to=last, group_by=group_by
                )
                times.append(time.perf_counter() - start)
        print(
            f"group_by={group_by or '-':<7} p50 {statistics.median(times) * 1000:7.1f} ms"
            f"  (visits {result['visits_checked_in']}, groups {len(result['groups'])})"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
