"""Web pages beside their JSON endpoints: the customer's visit page and the manager's
inbox page (50 cases), one uvicorn worker, in the same run.

Run from the project root (PostgreSQL on 127.0.0.1:5432, trust auth, wrk installed):

    .venv/bin/python bench/web_bench.py

It reuses bench/http_bench.py's machinery: a throw-away database (``direkte_web_bench``)
with the demo network and the bench policy, a manager's inbox filled to exactly 50 open
tier-1 cases through the API, and ``uvicorn bench.bench_app:app --workers 1``. Each
scenario is driven by wrk:

* ``visit_json``  GET /api/v1/visits/{id}   a customer reads a visit (bearer token)
* ``visit_page``  GET /app/visits/{id}       the same visits as pages (session cookie)
* ``inbox_json``  GET /api/v1/inbox?limit=50 the manager's 50 open cases
* ``inbox_page``  GET /app/inbox             the same 50 cases as the page

``--rounds`` (default 3) rounds each run every scenario once (after a warm-up in the
first round), so that a page and its endpoint are measured minutes apart at most; each
ratio (page requests/s over its endpoint's) is the median of its rounds'. Target: each
page at least 60 % of its endpoint. Any non-2xx answer, socket error or timeout, or an
inbox that is not 50 cases (as JSON or as the page), makes the run FAILED (exit 1).
The result goes as JSON to bench/results/ (gitignored); figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import http_bench as hb

PAGE_TARGET = 0.60
PAIRS = (("visit_page", "visit_json"), ("inbox_page", "inbox_json"))
SCENARIOS = ("visit_json", "visit_page", "inbox_json", "inbox_page")
SESSION_COOKIE = "direkte_session"


def page_session(base: str, email: str, password: str) -> str:
    """Log in through the form (with its CSRF token) as a browser does; the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/app/login", timeout=10) as resp:
        html = resp.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "no CSRF token on the log-in page"
    form = {"username": email, "password": password, "csrf_token": token.group(1)}
    data = urllib.parse.urlencode(form).encode()
    with opener.open(f"{base}/app/login", data=data, timeout=10):
        pass
    for cookie in jar:
        if cookie.name == SESSION_COOKIE and cookie.value:
            return cookie.value
    raise SystemExit(f"bench: the log-in form gave {email} no session")


def _lua_get(rows: list[tuple[str, str]], header: str) -> str:
    """Each request a random (credential, path) of ``rows``, the credential in ``header``."""
    lines = ",\n  ".join(f"{{{hb._lua_str(c)}, {hb._lua_str(p)}}}" for c, p in rows)
    return (
        hb.LUA_COMMON
        + hb.LUA_INIT
        + "local rows = {\n  "
        + lines
        + "\n}\n"
        + f"local header = {hb._lua_str(header)}\n"
        + r"""
function request()
  local r = rows[math.random(1, #rows)]
  return wrk.format("GET", r[2], {[header] = r[1]})
end
"""
    )


def check_page(base: str, path: str, cookie: str, cases: int | None) -> list[str]:
    request = urllib.request.Request(f"{base}{path}")
    request.add_header("Cookie", f"{SESSION_COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=30) as resp:
        status, html = resp.status, resp.read().decode()
    if status != 200:
        return [f"{path}: {status}"]
    if cases is not None:
        shown = len(re.findall(r'<li class="card(?: breached)?">\s*<h2><a href="/app/cases/', html))
        if shown != cases:
            return [f"{path}: {shown} cases on the page, expected {cases}"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="direkte_web_bench")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--stack",
        default="uvicorn-uvloop-httptools",
        choices=hb.STACKS,
        help="the server stack, as http_bench.py --stack (default: what direkte serve runs)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(hb.ROOT / "src"))
    from direkte.config import normalize_database_url
    from direkte.demo.generator import DEMO_PASSWORD

    db_url = normalize_database_url(f"{args.server}/{args.database}")
    hb.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    print(f"bench: creating database {args.database} and loading the demo …", flush=True)
    hb.create_database(args.server, args.database)
    results: dict[str, Any] = {
        "started_at": stamp,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "settings": vars(args) | {"target": PAGE_TARGET, "workers": 1},
        "rounds": [],
    }
    problems: list[str] = []
    proc = None
    try:
        prepared = hb.prepare_database(db_url)
        with tempfile.TemporaryDirectory(prefix="direkte-web-bench-") as tmp:
            tmpdir = Path(tmp)
            proc = hb.start_server(db_url, 1, args.port, tmpdir / "uvicorn.log", args.stack)
            base = f"http://127.0.0.1:{args.port}"
            tokens: dict[str, str] = {}
            need = hb.INBOX_CASES - prepared["inbox_cases_before"]
            problems += hb.fill_inbox(
                base, prepared["pool"], tokens, center=prepared["inbox_center"], need=need
            )
            manager = prepared["inbox_manager"]
            manager_token = hb.login(base, manager, DEMO_PASSWORD)
            manager_cookie = page_session(base, manager, DEMO_PASSWORD)
            problems += hb.check_inbox(base, manager_token)
            problems += check_page(base, "/app/inbox", manager_cookie, hb.INBOX_CASES)
            pairs = prepared["get_pairs"]
            emails = sorted({p["email"] for p in pairs})
            bearer = {e: "Bearer " + hb.login(base, e, DEMO_PASSWORD) for e in emails}
            cookies = {
                e: f"{SESSION_COOKIE}={page_session(base, e, DEMO_PASSWORD)}" for e in emails
            }
            first = pairs[0]
            problems += check_page(
                base,
                f"/app/visits/{first['visit_id']}",
                cookies[first["email"]].split("=", 1)[1],
                None,
            )
            scripts = {
                "visit_json": _lua_get(
                    [(bearer[p["email"]], f"/api/v1/visits/{p['visit_id']}") for p in pairs],
                    "Authorization",
                ),
                "visit_page": _lua_get(
                    [(cookies[p["email"]], f"/app/visits/{p['visit_id']}") for p in pairs], "Cookie"
                ),
                "inbox_json": _lua_get(
                    [("Bearer " + manager_token, f"/api/v1/inbox?limit={hb.INBOX_CASES}")],
                    "Authorization",
                ),
                "inbox_page": _lua_get(
                    [(f"{SESSION_COOKIE}={manager_cookie}", "/app/inbox")], "Cookie"
                ),
            }
            paths = {}
            for name, text in scripts.items():
                paths[name] = tmpdir / f"{name}.lua"
                paths[name].write_text(text)
            if problems:
                raise SystemExit("bench: preparation failed:\n  " + "\n  ".join(problems))
            for round_no in range(args.rounds):
                row: dict[str, Any] = {}
                for name in SCENARIOS:
                    run = {
                        "seconds": args.duration,
                        "connections": args.connections,
                        "threads": args.threads,
                        "tag": name,
                    }
                    if round_no == 0 and args.warmup:
                        hb.run_wrk(paths[name], base, **run | {"seconds": args.warmup})
                    row[name] = hb.run_wrk(paths[name], base, **run)
                    bad = hb._errors(row[name]) + row[name]["non2xx"]
                    if bad:
                        problems.append(
                            f"round {round_no + 1} {name}: {bad} errors "
                            f"({row[name]['non2xx_sample']})"
                        )
                    print(
                        f"  round {round_no + 1} {name:<11} {row[name]['rps']:8.1f} req/s  "
                        f"p50 {row[name]['p50_us'] / 1000:6.1f} ms  "
                        f"p99 {row[name]['p99_us'] / 1000:6.1f} ms",
                        flush=True,
                    )
                results["rounds"].append(row)
    finally:
        if proc is not None:
            hb.stop_server(proc)
        if not args.keep_db:
            hb.drop_database(args.server, args.database)
    summary = {}
    for page, endpoint in PAIRS:
        ratios = [r[page]["rps"] / r[endpoint]["rps"] for r in results["rounds"]]
        summary[page] = {
            "ratio": statistics.median(ratios),
            "ratios": ratios,
            "page_rps": statistics.median(r[page]["rps"] for r in results["rounds"]),
            "endpoint_rps": statistics.median(r[endpoint]["rps"] for r in results["rounds"]),
            "page_p99_ms": statistics.median(r[page]["p99_us"] / 1000 for r in results["rounds"]),
            "endpoint_p99_ms": statistics.median(
                r[endpoint]["p99_us"] / 1000 for r in results["rounds"]
            ),
        }
    results["summary"] = summary
    results["problems"] = problems
    out = hb.RESULTS / f"web-{stamp}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nweb bench, 1 worker, median of {args.rounds} rounds ({out.name}):")
    print(
        f"{'page':<11} {'page req/s':>10} {'p99 ms':>7} {'JSON req/s':>10} {'p99 ms':>7} "
        f"{'ratio':>6}  target"
    )
    for page, s in summary.items():
        met = "met" if s["ratio"] >= PAGE_TARGET else "MISSED"
        print(
            f"{page:<11} {s['page_rps']:10.1f} {s['page_p99_ms']:7.1f} {s['endpoint_rps']:10.1f} "
            f"{s['endpoint_p99_ms']:7.1f} {s['ratio']:6.2f}  >= {PAGE_TARGET:.2f} {met}"
        )
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
