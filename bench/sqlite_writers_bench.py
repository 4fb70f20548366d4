"""The embedded default under write load: 8 concurrent writers for 30 s on SQLite.

    .venv/bin/python bench/sqlite_writers_bench.py [--writers 8] [--duration 30]

Starts ``direkte serve`` as a laptop runs it (one process, the embedded SQLite
file in a fresh data directory, the demo loaded, the background worker on) with
the per-caller rate set high enough never to refuse (it is still counted, a write
per request). Preparation, over HTTP and the CLI: an integration key; per writer a
customer of the demo network with a new checked-in visit at a center where the
program runs, a diagnosis, and a case opened on it (201), plus a few more visits of
its own. Then each writer, on its own keep-alive connection, sends for
``--duration`` seconds, one after the other: the integration ``PUT`` of one of its
visits (a changed concern), a message in its case (as the customer) and a new
diagnosis of its visit. Reported: requests, p50/p99/max latency as the client sees
it, per kind and in all, the 5xx count and how many answers or server log lines say
"database is locked". Exit 1 if the preparation failed, any request was not 2xx,
or the log says "database is locked".
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("put_visit", "message", "diagnosis")
VISITS_PER_WRITER = 4
LOCKED = "database is locked"


class Prepared(Exception):
    """The preparation went wrong: no figures."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vin(seed: int) -> str:
    sys.path[:0] = [str(ROOT / "src")]
    from direkte.fields import vin_check_digit

    draft = f"5YJ3E1EA0KF{seed:06d}"[:17]
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def _visit_body(center: str, email: str, vin: str, concern: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "center": center,
        "customer_email": email,
        "vehicle": {
            "vin": vin,
            "model": "Model 3",
            "model_year": 2021,
            "odometer_km": 42000,
            "delivery_date": "2021-03-01",
        },
        "concern": concern,
        "status": "checked_in",
        "booked_at": (now - timedelta(days=2)).isoformat(),
        "appointment_date": now.date().isoformat(),
        "checked_in_at": (now - timedelta(hours=1)).isoformat(),
        "drivable": True,
    }


class Connection:
    """One keep-alive HTTP connection; JSON in and out."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        sent = dict(headers or {})
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=sent)
        response = self.conn.getresponse()
        return response.status, response.read().decode(errors="replace")

    def close(self) -> None:
        self.conn.close()


def _expect(status: int, text: str, wanted: tuple[int, ...], what: str) -> Any:
    if status not in wanted:
        raise Prepared(f"{what}: {status} {text[:300]}")
    return json.loads(text) if text else None


def start_server(
    data_dir: Path, port: int, log_path: Path, *, worker: bool = True
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIREKTE_DATA_DIR": str(data_dir),
        "DIREKTE_LOG_LEVEL": "warning",
        "DIREKTE_RATE_LIMIT": "1000000/minute",  # counted (a write), never refused
    }
    env.pop("DIREKTE_DATABASE_URL", None)  # the embedded default
    direkte = str(Path(sys.executable).parent / "direkte")
    proc = subprocess.Popen(
        [direkte, "serve", "--port", str(port), "--host", "127.0.0.1"]
        + ([] if worker else ["--no-worker"]),
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Prepared(f"direkte serve exited early; see {log_path}")
        try:
            conn = Connection(port)
            status, _ = conn.call("GET", "/healthz")
            conn.close()
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise Prepared(f"direkte serve did not answer within 180 s; see {log_path}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def create_key(data_dir: Path) -> str:
    env = {**os.environ, "DIREKTE_DATA_DIR": str(data_dir)}
    env.pop("DIREKTE_DATABASE_URL", None)
    direkte = str(Path(sys.executable).parent / "direkte")
    out = subprocess.run(
        [direkte, "apikey", "create", "--name", "bench-writers"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    keys = [w for w in out.stdout.split() if len(w) >= 32]
    if out.returncode != 0 or not keys:
        raise Prepared(f"apikey create failed: {out.stdout} {out.stderr}")
    return keys[-1]


def candidates(data_dir: Path) -> list[tuple[str, str]]:
    """Demo customers (those without a case first), each with a center where the program
    runs."""
    db = sqlite3.connect(f"file:{data_dir / 'direkte.sqlite3'}?mode=ro", uri=True)
    try:
        centers = [
            code
            for (code,) in db.execute(
                "SELECT code FROM centers WHERE program IN ('on', 'pilot') ORDER BY code"
            )
        ]
        customers = [
            email
            for (email,) in db.execute(
                "SELECT email FROM users WHERE role = 'customer' AND active ORDER BY "
                "id IN (SELECT customer_id FROM escalations), id"
            )
        ]
    finally:
        db.close()
    if not centers or not customers:
        raise Prepared("the demo network has no program center or no customer")
    return [(email, centers[n % len(centers)]) for n, email in enumerate(customers)]


def prepare_writer(
    port: int, key: str, email: str, center: str, writer: int, password: str
) -> dict[str, Any]:
    """A visit with a diagnosis and an open case, and more visits; or Prepared."""
    conn = Connection(port)
    api = {"X-API-Key": key}
    try:
        visits = []
        for n in range(VISITS_PER_WRITER):
            external_id = f"BENCH-W{writer:02d}-{n}"
            body = _visit_body(center, email, _vin(writer * 100 + n), "Rattle from the dashboard")
            status, text = conn.call(
                "PUT", f"/api/v1/integration/visits/{external_id}", body=body, headers=api
            )
            upserted = _expect(status, text, (200, 201), f"PUT {external_id}")
            visits.append({"external_id": external_id, "body": body, "id": upserted["id"]})
        first = visits[0]["external_id"]
        status, text = conn.call(
            "POST",
            f"/api/v1/integration/visits/{first}/diagnoses",
            body={"findings": "Loose trim clip", "codes": ["B1000"], "safety_related": False},
            headers=api,
        )
        diagnosis = _expect(status, text, (201,), "diagnosis")["id"]
        status, text = conn.call(
            "POST", "/api/v1/auth/token", form={"username": email, "password": password}
        )
        token = _expect(status, text, (200,), f"log-in {email}")["access_token"]
        user = {"Authorization": f"Bearer {token}"}
        visit_id = visits[0]["id"]
        status, text = conn.call(
            "POST",
            f"/api/v1/visits/{visit_id}/escalations",
            body={
                "category": "diagnosis",
                "subject_id": diagnosis,
                "reason": "The same rattle was fixed at my last visit",
            },
            headers=user,
        )
        if status == 422 and "not_eligible" in text:
            raise Prepared(f"not eligible: {text[:200]}")
        case = _expect(status, text, (201,), f"escalation for {email}")["id"]
        return {"visits": visits, "user": user, "api": api, "case": case}
    finally:
        conn.close()


def run_writer(
    port: int,
    writer: dict[str, Any],
    until: float,
    results: list[tuple[str, float, int, str]],
    lock: threading.Lock,
) -> None:
    conn = Connection(port)
    mine: list[tuple[str, float, int, str]] = []
    n = 0
    try:
        while time.monotonic() < until:
            kind = KINDS[n % len(KINDS)]
            visit = writer["visits"][n % len(writer["visits"])]
            if kind == "put_visit":
                body = {**visit["body"], "concern": f"Rattle from the dashboard, take {n}"}
                args: tuple[str, str] = (
                    "PUT",
                    f"/api/v1/integration/visits/{visit['external_id']}",
                )
                headers, payload = writer["api"], body
            elif kind == "message":
                args = ("POST", f"/api/v1/escalations/{writer['case']}/messages")
                headers, payload = writer["user"], {"body": f"Any news? ({n})"}
            else:
                args = ("POST", f"/api/v1/integration/visits/{visit['external_id']}/diagnoses")
                headers = writer["api"]
                payload = {"findings": f"Checked again ({n})", "codes": ["B1000"]}
            started = time.perf_counter()
            status, text = conn.call(*args, body=payload, headers=headers)
            elapsed = time.perf_counter() - started
            mine.append((kind, elapsed, status, text[:200] if status >= 300 else ""))
            n += 1
    finally:
        conn.close()
        with lock:
            results.extend(mine)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="serve without the background worker's rounds (to see what they cost)",
    )
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "src")]
    from direkte.demo.generator import DEMO_PASSWORD

    data_dir = Path(tempfile.mkdtemp(prefix="direkte-writers-"))
    log_path = data_dir / "serve.log"
    port = _free_port()
    proc = start_server(data_dir, port, log_path, worker=args.worker)
    try:
        key = create_key(data_dir)
        writers: list[dict[str, Any]] = []
        refused: list[str] = []
        for email, center in candidates(data_dir):
            if len(writers) == args.writers:
                break
            try:
                writers.append(
                    prepare_writer(port, key, email, center, len(writers), DEMO_PASSWORD)
                )
            except Prepared as exc:
                if "not eligible" not in str(exc):
                    raise
                refused.append(email)
        if len(writers) < args.writers:
            raise Prepared(f"only {len(writers)} writers prepared; refused: {refused}")
        results: list[tuple[str, float, int, str]] = []
        lock = threading.Lock()
        # A warm-up round (not counted), then the measured one.
        for duration, keep in ((args.warmup, False), (args.duration, True)):
            batch: list[tuple[str, float, int, str]] = []
            until = time.monotonic() + duration
            threads = [
                threading.Thread(target=run_writer, args=(port, w, until, batch, lock))
                for w in writers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if keep:
                results = batch
    except Prepared as exc:
        print(f"sqlite_writers_bench: preparation FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_server(proc)
    log = log_path.read_text(errors="replace")
    bad = [r for r in results if not 200 <= r[2] < 300]
    report = {
        "writers": args.writers,
        "worker": args.worker,
        "duration_s": args.duration,
        "all": summary([r[1] for r in results]),
        **{kind: summary([r[1] for r in results if r[0] == kind]) for kind in KINDS},
        "rps": round(len(results) / args.duration, 1),
        "non_2xx": len(bad),
        "5xx": sum(1 for r in bad if r[2] >= 500),
        "database_is_locked": sum(1 for r in bad if LOCKED in r[3]) + log.count(LOCKED),
        "first_bad": bad[0] if bad else None,
        "data_dir": str(data_dir) if args.keep else None,
    }
    print(json.dumps(report, indent=2))
    if not args.keep:
        for path in sorted(data_dir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        data_dir.rmdir()
    if bad or report["database_is_locked"]:
        print("sqlite_writers_bench: FAILED (non-2xx answers or 'database is locked')")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
