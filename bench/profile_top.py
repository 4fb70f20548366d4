"""Summarise a py-spy collapsed-stack file (``--format raw``) from ``http_bench.py --profile``.

    .venv/bin/python bench/profile_top.py bench/results/profile-...-w1-get_visit.txt [--top 25]

Prints the functions with the most inclusive and self time (share of samples),
and the share per library (direkte, sqlalchemy, psycopg, pydantic, fastapi, ...).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")
LIBS = (
    "direkte",
    "sqlalchemy",
    "psycopg",
    "pydantic_core",
    "pydantic",
    "fastapi",
    "starlette",
    "anyio",
    "uvicorn",
    "h11",
    "jwt",
    "holidays",
    "zoneinfo",
    "asyncio",
    "threading",
    "concurrent",
)


def _where(path: str) -> str:
    for part in ("site-packages/", "src/", "lib/python3"):
        if part in path:
            path = path.split(part, 1)[1]
    return path


def _lib(path: str) -> str:
    for lib in LIBS:
        if f"/{lib}/" in path or path.startswith(f"{lib}/") or f"{lib}.py" in path:
            return lib
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only frames whose name/file contains this")
    args = parser.parse_args()

    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    libs: Counter[str] = Counter()
    total = 0
    for line in args.file.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        names = []
        for raw in stack.split(";"):
            m = FRAME.match(raw)
            if m is None:
                names.append((raw, "other"))
                continue
            where = _where(m["file"])
            names.append((f"{m['func']} ({where})", _lib(m["file"])))
        for name in {n for n, _ in names}:
            inclusive[name] += count
        own[names[-1][0]] += count
        libs[names[-1][1]] += count

    def show(title: str, counter: Counter[str]) -> None:
        print(f"\n{title}")
        shown = 0
        for name, count in counter.most_common():
            if args.match and args.match not in name:
                continue
            print(f"  {100 * count / total:5.1f}%  {name}")
            shown += 1
            if shown >= args.top:
                break

    print(f"{args.file.name}: {total} samples")
    show("self time by library (the innermost frame's package)", libs)
    show("inclusive time (the function or anything it calls)", inclusive)
    show("self time", own)


if __name__ == "__main__":
    main()
