"""direkte against the field: server stacks compared, and a peer helpdesk in the same run.

Called by ``bench/http_bench.py`` (see docs/performance.md):

* ``--stacks uvicorn-uvloop-httptools,granian,...`` (or ``all``): the bare insert and the
  bare select on every named server stack, with 1 and 2 workers (``--workers``), in
  interleaved rounds (round r runs every stack and worker count once), beside the
  peer's bare Django insert view on gunicorn when bench/peer is set up;
* ``--peer``: direkte's escalation create (after ``--past`` past cases, 1,000,000 by
  default) and its bare endpoints against django-helpdesk's REST ticket create and
  the bare Django insert, interleaved in every round, with 1 and 2 workers each;
  prints one line per worker count::

      peer: workers=N direkte_create=R1 peer_ticket=R2 ratio=R1/R2 ...

Nothing flatters: any non-2xx answer, socket error or timeout (warm-up or
measured), a create that is not a new case (201), a round that completed no
request, a ticket count in the peer's database that does not match its 201s, or
a peer that is not set up makes the run FAILED: no ``peer:`` line, no verdict,
exit status 1.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import http_bench as hb

PEER_DIR = hb.ROOT / "bench" / "peer"
PEER_PYTHON = PEER_DIR / ".venv" / "bin" / "python"
PEER_DATABASE = "direkte_peer"
# Targets (issue 17), per worker count.
CREATE_VS_TICKET = 5.0  # direkte's escalation create >= 5x the peer's ticket create
# ... with direkte's p99 below the peer's p50, and each bare endpoint >= the peer's bare view.

PEER_TICKET_DESCRIPTION = (
    "After the service last week the brakes squeal when cold and the car pulls to the "
    "left; the workshop says it is normal wear, I do not agree."
)


# ---- the peer ----------------------------------------------------------------------


def prepare_peer() -> dict[str, Any]:
    """Run the peer's idempotent preparation; its last line is the queue and the staff user."""
    if not PEER_PYTHON.exists():
        raise SystemExit(
            "bench: the peer helpdesk is not set up (no bench/peer/.venv): run bench/peer/setup.sh"
        )
    out = subprocess.run(
        [str(PEER_PYTHON), "prepare.py"],
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        check=False,
        env=_peer_env(),
    )
    if out.returncode != 0:
        raise SystemExit(f"bench: the peer's preparation failed:\n{out.stdout}\n{out.stderr}")
    prepared: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return prepared


def _peer_env() -> dict[str, str]:
    import os

    return {
        **os.environ,
        "PEER_DATABASE": PEER_DATABASE,
        "DJANGO_SETTINGS_MODULE": "peersite.settings",
    }


def start_peer(workers: int, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """django-helpdesk on gunicorn's sync workers, as its docs deploy it."""
    cmd = [
        str(PEER_DIR / ".venv" / "bin" / "gunicorn"),
        "peersite.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    hb.ensure_port_free(port)
    log = log_path.open("wb")
    proc = subprocess.Popen(
        cmd, cwd=PEER_DIR, env=_peer_env(), stdout=log, stderr=subprocess.STDOUT
    )
    hb.wait_ready(
        proc,
        f"http://127.0.0.1:{port}/helpdesk/login/",
        log_path,
        settle=1.0 + workers,
        what="gunicorn (peer)",
    )
    return proc


def peer_login(base: str, user: str, password: str) -> dict[str, str]:
    """A session log-in through django-helpdesk's login form: the cookies and CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/helpdesk/login/", timeout=10).read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise SystemExit("bench: the peer's login page has no CSRF token")
    form = {
        "csrfmiddlewaretoken": match.group(1),
        "username": user,
        "password": password,
        "next": "/helpdesk/",
    }
    request = urllib.request.Request(
        f"{base}/helpdesk/login/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Referer": f"{base}/helpdesk/login/"},
    )
    opener.open(request, timeout=10).read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit("bench: the peer's staff user could not log in")
    return cookies


def peer_counts() -> dict[str, int]:
    """Rows in the peer's ticket and bare tables (to check the 201s against)."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{PEER_DATABASE}") as conn:
        tickets = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()
        rows = conn.execute("SELECT count(*) FROM bare_barerow").fetchone()
    assert tickets is not None
    assert rows is not None
    return {"tickets": int(tickets[0]), "bare_rows": int(rows[0])}


def lua_peer_ticket(cookies: dict[str, str], queue: int) -> str:
    """django-helpdesk's REST ticket create (``POST /helpdesk/api/tickets/``), session auth."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return (
        hb.LUA_COMMON
        + hb.LUA_INIT
        + "expect_status = 201\n"
        + f"local cookie = {hb._lua_str(cookie)}\n"
        + f"local csrf = {hb._lua_str(cookies['csrftoken'])}\n"
        + f"local description = {hb._lua_str(PEER_TICKET_DESCRIPTION)}\n"
        + f"local queue = {queue}\n"
        + r"""
function request()
  n = n + 1
  local body = '{"queue":' .. queue .. ',"title":"Bench ticket ' .. tag .. '-' .. tid .. '-' ..
    n .. '","description":"' .. description .. '","submitter_email":"customer-' .. tid ..
    '@peer.example.com","priority":3}'
  return wrk.format("POST", "/helpdesk/api/tickets/", {["Content-Type"] = "application/json",
    ["Cookie"] = cookie, ["X-CSRFToken"] = csrf, ["Referer"] = "http://127.0.0.1/"}, body)
end
"""
    )


# ---- measuring ---------------------------------------------------------------------


def measure(
    script: Path,
    url: str,
    proc: subprocess.Popen[bytes],
    args: argparse.Namespace,
    *,
    tag: str,
    warmup: bool,
) -> dict[str, Any]:
    """One wrk run (after a warm-up if asked) with the server's CPU per request."""
    common = {"connections": args.connections, "threads": args.threads}
    warm = None
    if warmup and args.warmup > 0:
        warm = hb.run_wrk(script, url, seconds=args.warmup, tag=tag + "u", **common)
        hb.wait_idle(proc.pid)
    cpu_before, _ = hb.server_cpu_seconds(proc.pid)
    result = hb.run_wrk(script, url, seconds=args.duration, tag=tag + "m", **common)
    cpu_after, _ = hb.server_cpu_seconds(proc.pid)
    result["server_cpu_ms"] = (cpu_after - cpu_before) * 1000 / max(result["requests"], 1)
    if warm is not None:
        result["warmup"] = {k: warm[k] for k in hb.WARMUP_KEYS}
    result["drain_s"] = round(hb.wait_idle(proc.pid), 2)
    return result


def problems_of(where: str, result: dict[str, Any], *, creates: bool) -> list[str]:
    """What makes one scenario's figures unusable (warm-up and measured rounds)."""
    problems = []
    for phase, counts in (("warm-up", result.get("warmup")), ("measured", result)):
        if not counts:
            continue
        if counts["non2xx"] or counts.get("status_errors") or hb._errors(counts):
            problems.append(
                f"{where} {phase}: {counts['non2xx']} non-2xx, {hb._errors(counts)} socket "
                f"errors or timeouts (first: {result.get('non2xx_sample', '')[:200]})"
            )
        if creates and (counts["unexpected_2xx"] or counts["exhausted"] or counts["held"]):
            problems.append(
                f"{where} {phase}: {counts['unexpected_2xx']} 2xx other than 201, "
                f"{counts['exhausted']} after the pool ran dry, {counts['held']} held"
            )
    if min(result.get("rounds_requests", [result["requests"]])) == 0:
        problems.append(f"{where}: a round in which no request completed")
    return problems


def _median(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median round by throughput, with every round's rate and the counters summed."""
    median = dict(sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2])
    for key in hb.SUMMED:
        median[key] = sum(int(r[key]) for r in rounds)
    median["rounds_rps"] = [round(r["rps"], 1) for r in rounds]
    median["rounds_requests"] = [int(r["requests"]) for r in rounds]
    if "warmup" in rounds[0]:
        median["warmup"] = rounds[0]["warmup"]
    return median


def _write(results: dict[str, Any], name: str) -> Path:
    hb.RESULTS.mkdir(parents=True, exist_ok=True)
    out = hb.RESULTS / f"{name}-{results['started_at']}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return out


# ---- --stacks ----------------------------------------------------------------------


def prepare_bare(url: str) -> None:
    """Migrations and the bench table: all the bare endpoints need."""
    import sqlalchemy as sa

    from direkte.db import make_engine, upgrade_database

    upgrade_database(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(hb.BENCH_ROWS_DDL)
        conn.execute(
            sa.text("INSERT INTO bench_rows (note, created_at) VALUES (:note, now())"),
            [{"note": f"seed row {n}"} for n in range(hb.SELECT_ROWS)],
        )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def stacks_main(args: argparse.Namespace) -> int:
    from direkte.config import normalize_database_url

    hb.RESULTS.mkdir(parents=True, exist_ok=True)
    stacks = list(hb.STACKS) if args.stacks == "all" else args.stacks.split(",")
    unknown = set(stacks) - set(hb.STACKS)
    if unknown:
        raise SystemExit(f"bench: unknown stacks {sorted(unknown)}; known: {', '.join(hb.STACKS)}")
    worker_counts = [int(w) for w in args.workers.split(",")]
    with_peer = PEER_PYTHON.exists()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {"started_at": stamp, "stacks": stacks, "rounds": []}
    db_url = normalize_database_url(f"{args.server}/{args.database}")
    print(f"bench: stacks {', '.join(stacks)}; peer bare view: {with_peer}", flush=True)
    hb.create_database(args.server, args.database)
    problems: list[str] = []
    measured: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    try:
        prepare_bare(db_url)
        if with_peer:
            prepare_peer()
        with tempfile.TemporaryDirectory(prefix="direkte-stacks-") as tmp:
            scripts = {"bare_insert": Path(tmp) / "bare_insert.lua"}
            scripts["bare_insert"].write_text(hb.lua_bare_insert())
            scripts["bare_select"] = Path(tmp) / "bare_select.lua"
            scripts["bare_select"].write_text(hb.lua_bare_select())
            for round_no in range(1, args.rounds + 1):
                for workers in worker_counts:
                    for stack in [*stacks, *(["django-gunicorn"] if with_peer else [])]:
                        log_path = hb.RESULTS / f"stacks-{stamp}-{stack}-w{workers}.log"
                        try:
                            if stack == "django-gunicorn":
                                proc = start_peer(workers, args.port, log_path)
                                runs = {"bare_insert": "/bare/insert"}
                            else:
                                proc = hb.start_server(db_url, workers, args.port, log_path, stack)
                                runs = {"bare_insert": "/bench/insert", "bare_select": "/"}
                        except SystemExit as exc:  # did not start: recorded, the rest runs
                            problems.append(f"round {round_no} {stack} w{workers}: {exc}")
                            print(f"  round {round_no}  {stack} w{workers}: {exc}", flush=True)
                            continue
                        try:
                            for name, path in runs.items():
                                result = measure(
                                    scripts[name],
                                    f"http://127.0.0.1:{args.port}{path}",
                                    proc,
                                    args,
                                    tag=f"{stamp}{stack}{workers}",
                                    warmup=round_no == 1,
                                )
                                measured.setdefault((stack, workers, name), []).append(result)
                                print(
                                    f"  round {round_no}  {stack:<26} w{workers} {name:<12} "
                                    f"{result['rps']:>7.0f} req/s  p50 "
                                    f"{result['p50_us'] / 1000:.1f} ms  p99 "
                                    f"{result['p99_us'] / 1000:.1f} ms  cpu "
                                    f"{result['server_cpu_ms']:.2f} ms/req  non-2xx "
                                    f"{result['non2xx']}",
                                    flush=True,
                                )
                        finally:
                            hb.stop_server(proc)
    finally:
        if not args.keep_db:
            hb.drop_database(args.server, args.database)
    rows = []
    for (stack, workers, name), rounds in measured.items():
        median = _median(rounds)
        problems += problems_of(f"{stack} w{workers} {name}", median, creates=False)
        rows.append((stack, workers, name, median))
    results["rows"] = [
        {"stack": s, "workers": w, "scenario": n, **{k: v for k, v in m.items() if k != "warmup"}}
        for s, w, n, m in rows
    ]
    results["problems"] = problems
    lines = [
        f"{'stack':<26} {'workers':>7} {'scenario':<12} {'req/s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>8} {'cpu ms/req':>10}  rounds req/s"
    ]
    for stack, workers, name, m in sorted(rows, key=lambda r: (r[2], r[1], -r[3]["rps"])):
        lines.append(
            f"{stack:<26} {workers:>7} {name:<12} {m['rps']:>7.0f} {m['p50_us'] / 1000:>7.1f} "
            f"{m['p99_us'] / 1000:>8.1f} {m['server_cpu_ms']:>10.2f}  "
            + " / ".join(f"{v:.0f}" for v in m["rounds_rps"])
        )
    if problems:
        lines += ["", "FAILED: the figures above are not a result:", *[f"  {p}" for p in problems]]
    table = "\n".join(lines)
    results["table"] = table
    print("\n" + table)
    out = _write(results, "stacks")
    print(f"\nbench: results written to {out.relative_to(hb.ROOT)}")
    return 1 if problems else 0


# ---- --peer ------------------------------------------------------------------------

# In the order they run within a round; the peer's are on gunicorn, the others on direkte.
PEER_SCENARIOS = (
    "bare_insert",
    "bare_select",
    "create_escalation",
    "peer_bare_insert",
    "peer_ticket",
)


def peer_main(args: argparse.Namespace) -> int:
    from direkte.config import normalize_database_url
    from direkte.demo.generator import DEMO_PASSWORD

    hb.RESULTS.mkdir(parents=True, exist_ok=True)
    worker_counts = [int(w) for w in args.workers.split(",")]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    db_url = normalize_database_url(f"{args.server}/{args.database}")
    peer = prepare_peer()  # fails loudly when the peer is not set up
    print(f"bench: peer ready (queue {peer['queue']}); creating {args.database} …", flush=True)
    results: dict[str, Any] = {
        "started_at": stamp,
        "settings": {
            "stack": args.stack,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "past": args.past,
            "peer": "django-helpdesk (bench/peer/requirements.txt), gunicorn sync workers",
        },
        "runs": [],
    }
    problems: list[str] = []
    hb.create_database(args.server, args.database)
    pool = None
    peer_port = args.port + 1
    try:
        prepared = hb.prepare_database(db_url)
        pool = prepared["pool"]
        escalation_pool = pool
        if args.past:
            print(f"bench: adding {args.past:,} past escalations …", flush=True)
            results["settings"]["past_fill"] = hb.fill_past(
                db_url, args.past, prepared["escalation_customer_ids"]
            )
        with tempfile.TemporaryDirectory(prefix="direkte-peer-") as tmp:
            tmpdir = Path(tmp)
            (tmpdir / "bare_insert.lua").write_text(hb.lua_bare_insert())
            (tmpdir / "bare_select.lua").write_text(hb.lua_bare_select())
            (tmpdir / "peer_bare_insert.lua").write_text(hb.lua_bare_insert())

            def escalation_script(seconds: int, tokens: dict[str, str], base: str) -> Path:
                take = escalation_pool.visits_for(seconds, args.threads)
                chunk = escalation_pool.take(take)
                owners = sorted({visit["email"] for visit in chunk})
                for email in owners:
                    if email not in tokens:
                        tokens[email] = hb.login(base, email, DEMO_PASSWORD)
                index = {email: i for i, email in enumerate(owners)}
                per_thread = take // args.threads
                slices = [
                    [
                        (index[v["email"]], v["visit_id"], v["subjects"])
                        for v in chunk[t * per_thread : (t + 1) * per_thread]
                    ]
                    for t in range(args.threads)
                ]
                script = tmpdir / f"create_escalation-{escalation_pool.visits_made}.lua"
                script.write_text(hb.lua_create_escalation([tokens[e] for e in owners], slices))
                return script

            for workers in worker_counts:
                print(
                    f"bench: {workers} worker(s): direkte ({args.stack}) and the peer", flush=True
                )
                try:
                    proc = hb.start_server(
                        db_url,
                        workers,
                        args.port,
                        hb.RESULTS / f"peer-{stamp}-direkte-w{workers}.log",
                        args.stack,
                    )
                except SystemExit as exc:  # recorded; the other worker counts still run
                    problems.append(f"{workers} worker(s): direkte did not start: {exc}")
                    continue
                peer_proc = None
                try:
                    peer_proc = start_peer(
                        workers, peer_port, hb.RESULTS / f"peer-{stamp}-gunicorn-w{workers}.log"
                    )
                    base = f"http://127.0.0.1:{args.port}"
                    peer_base = f"http://127.0.0.1:{peer_port}"
                    cookies = peer_login(peer_base, peer["user"], peer["password"])
                    (tmpdir / "peer_ticket.lua").write_text(lua_peer_ticket(cookies, peer["queue"]))
                    tokens: dict[str, str] = {}
                    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in PEER_SCENARIOS}
                    for round_no in range(1, args.rounds + 1):
                        for name in PEER_SCENARIOS:
                            on_peer = name.startswith("peer_")
                            server = peer_proc if on_peer else proc
                            url = {
                                "bare_insert": f"{base}/bench/insert",
                                "bare_select": f"{base}/",
                                "create_escalation": f"{base}/",
                                "peer_bare_insert": f"{peer_base}/bare/insert",
                                "peer_ticket": f"{peer_base}/",
                            }[name]
                            script = tmpdir / f"{name}.lua"
                            tag = f"{stamp}w{workers}r{round_no}"
                            if name == "create_escalation":
                                warm = None
                                if round_no == 1 and args.warmup > 0:
                                    warm = hb.run_wrk(
                                        escalation_script(args.warmup, tokens, base),
                                        url,
                                        seconds=args.warmup,
                                        connections=args.connections,
                                        threads=args.threads,
                                        tag=tag + "u",
                                    )
                                    escalation_pool.rates.append(warm["rps"])
                                    hb.wait_idle(proc.pid)
                                script = escalation_script(args.duration, tokens, base)
                                result = measure(script, url, server, args, tag=tag, warmup=False)
                                if warm is not None:
                                    result["warmup"] = {k: warm[k] for k in hb.WARMUP_KEYS}
                                escalation_pool.rates.append(result["rps"])
                            else:
                                before = peer_counts() if on_peer else None
                                result = measure(
                                    script, url, server, args, tag=tag, warmup=round_no == 1
                                )
                                if before is not None:
                                    after = peer_counts()
                                    made = {
                                        "peer_ticket": after["tickets"] - before["tickets"],
                                        "peer_bare_insert": after["bare_rows"]
                                        - before["bare_rows"],
                                    }[name]
                                    answered = result["requests"] + (
                                        result["warmup"]["requests"] if "warmup" in result else 0
                                    )
                                    result["rows_made"] = made
                                    # wrk counts answers; the server may finish a request or
                                    # two whose answer wrk did not wait for when it stopped.
                                    if made < answered - result["non2xx"]:
                                        problems.append(
                                            f"{workers} worker(s) {name} round {round_no}: "
                                            f"{made} rows made for {answered} answers"
                                        )
                                if name == "bare_insert":
                                    escalation_pool.rates.append(result["rps"])
                            rounds[name].append(result)
                            print(
                                f"  w{workers} round {round_no}  {name:<18} {result['rps']:>7.0f} "
                                f"req/s  p50 {result['p50_us'] / 1000:.1f} ms  p99 "
                                f"{result['p99_us'] / 1000:.1f} ms  cpu "
                                f"{result['server_cpu_ms']:.2f} ms/req  non-2xx {result['non2xx']}",
                                flush=True,
                            )
                finally:
                    hb.stop_server(proc)
                    if peer_proc is not None:
                        hb.stop_server(peer_proc)
                scenarios = {name: _median(r) for name, r in rounds.items()}
                for name, median in scenarios.items():
                    problems += problems_of(
                        f"{workers} worker(s) {name}",
                        median,
                        creates=name in ("create_escalation", "peer_ticket"),
                    )
                ratio_rounds = [
                    c["rps"] / t["rps"]
                    for c, t in zip(rounds["create_escalation"], rounds["peer_ticket"], strict=True)
                ]
                results["runs"].append(
                    {
                        "workers": workers,
                        "scenarios": scenarios,
                        "ratio_rounds": [round(r, 3) for r in ratio_rounds],
                    }
                )
    finally:
        if pool is not None:
            pool.close()
        if not args.keep_db:
            hb.drop_database(args.server, args.database)
    results["problems"] = problems
    table = render_peer(results, problems)
    results["table"] = table
    out = _write(results, "peer")
    print("\n" + table)
    print(f"\nbench: results written to {out.relative_to(hb.ROOT)}")
    if problems:
        print(f"bench: FAILED ({len(problems)} problem(s) above); no peer line", file=sys.stderr)
        return 1
    return 0


def render_peer(results: dict[str, Any], problems: list[str]) -> str:
    lines = [
        f"{'workers':>7}  {'scenario':<18} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu ms/req':>10}  rounds req/s"
    ]
    for run in results["runs"]:
        for name, m in run["scenarios"].items():
            lines.append(
                f"{run['workers']:>7}  {name:<18} {m['rps']:>7.0f} {m['p50_us'] / 1000:>8.1f} "
                f"{m['p99_us'] / 1000:>8.1f} {m['server_cpu_ms']:>10.2f}  "
                + " / ".join(f"{v:.0f}" for v in m["rounds_rps"])
            )
    if problems:
        lines += ["", "FAILED: no peer line, the figures above are not a result:"]
        lines += [f"  {p}" for p in problems]
        return "\n".join(lines)
    lines.append("")
    verdicts = []
    for run in results["runs"]:
        s = run["scenarios"]
        create, ticket = s["create_escalation"], s["peer_ticket"]
        ratio = create["rps"] / ticket["rps"]
        run["ratio"] = ratio
        lines.append(
            f"peer: workers={run['workers']} direkte_create={create['rps']:.0f} "
            f"peer_ticket={ticket['rps']:.0f} ratio={ratio:.2f} "
            f"direkte_p50_ms={create['p50_us'] / 1000:.1f} "
            f"direkte_p99_ms={create['p99_us'] / 1000:.1f} "
            f"peer_p50_ms={ticket['p50_us'] / 1000:.1f} peer_p99_ms={ticket['p99_us'] / 1000:.1f}"
        )
        bare = s["peer_bare_insert"]["rps"]
        w = run["workers"]
        verdicts += [
            f"  {w} worker(s): create / ticket {ratio:.2f} (rounds "
            + " / ".join(f"{r:.2f}" for r in run["ratio_rounds"])
            + f") target >= {CREATE_VS_TICKET:.0f}: "
            + ("met" if ratio >= CREATE_VS_TICKET else "MISSED"),
            f"  {w} worker(s): create p99 {create['p99_us'] / 1000:.0f} ms < ticket p50 "
            f"{ticket['p50_us'] / 1000:.0f} ms: "
            + ("met" if create["p99_us"] < ticket["p50_us"] else "MISSED"),
        ]
        for name in ("bare_insert", "bare_select"):
            verdicts.append(
                f"  {w} worker(s): {name} {s[name]['rps']:.0f} >= peer bare Django insert "
                f"{bare:.0f}: " + ("met" if s[name]["rps"] >= bare else "MISSED")
            )
    lines += ["", "targets:", *verdicts]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    if args.stacks:
        return stacks_main(args)
    if shutil.which("wrk") is None:  # checked by http_bench too; kept for direct callers
        raise SystemExit("bench: wrk is not installed")
    return peer_main(args)
