"""Notification delivery benchmark on PostgreSQL (issue 13).

Builds a throwaway database and measures, with 1 and 2 worker processes:

- in-app: N committed outbox events (one recipient each) fanned out into the
  inbox by ``deliver_outbox`` (what ``direkte worker`` runs), events per second;
- webhooks: N events about one case, fanned out and POSTed, signed, to a local
  HTTP receiver (``send_due``), calls per second;
- lag: a real ``direkte worker --interval S`` process while events are committed
  one at a time at a steady rate; the lag is from the commit to the moment an
  observer polling every 10 ms sees the notification (p50, p99).

    .venv/bin/python bench/notify_bench.py
    .venv/bin/python bench/notify_bench.py --events 20000 --hooks 2000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from one_center import network, throwaway_database

from direkte.audit.service import Actor
from direkte.db import make_engine, make_sessionmaker
from direkte.jobs.sending import Outbound, send_due
from direkte.jobs.sweeps import deliver_outbox
from direkte.network.service import load_network
from direkte.notifications.models import OutboxEvent, Webhook
from direkte.notifications.service import IN_APP_ONLY, emit, outbox_row
from direkte.notifications.webhooks import new_secret

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


@contextmanager
def database() -> Iterator[str]:
    with throwaway_database("direkte_notify") as url:
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            load_network(session, _clock(), raw=network(), actor=Actor.system("bench"))
            session.commit()
        engine.dispose()
        yield url


def _clock() -> Any:
    from direkte.clock import FixedClock

    return FixedClock(NOW - timedelta(days=1))


def _customer(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        user = conn.execute(sa.text("SELECT id FROM users WHERE role = 'customer'")).scalar_one()
    engine.dispose()
    return int(user)


def _fill(url: str, n: int, topic: str, aggregate_id: int, recipient: int) -> None:
    engine = make_engine(url)
    rows = [
        outbox_row(
            at=NOW,
            topic=topic,
            aggregate_kind="escalation",
            aggregate_id=aggregate_id,
            recipients=[recipient],
            payload={"escalation_id": aggregate_id, "n": i},
        )
        for i in range(n)
    ]
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(sa.insert(OutboxEvent), rows[start : start + 5000])
        conn.exec_driver_sql("ANALYZE outbox_events")
    engine.dispose()


def _worker(url: str, webhooks: bool, go: Any, done: Any) -> None:
    engine = make_engine(url, pool_size=2)
    factory = make_sessionmaker(engine)
    outbound = Outbound(allow_private=True)
    go.wait()
    delivered = sent = 0
    while True:
        channels = outbound.channels if webhooks else IN_APP_ONLY
        fanned = deliver_outbox(factory, now=NOW, batch=500, channels=channels)
        went = send_due(factory, now=NOW, outbound=outbound, batch=200).sent if webhooks else 0
        delivered, sent = delivered + fanned.delivered, sent + went
        if not fanned.claimed and not went:
            break
    engine.dispose()
    done.put((delivered, sent))


def _run_workers(url: str, workers: int, *, webhooks: bool) -> tuple[float, int, int]:
    ctx = multiprocessing.get_context("fork")
    go, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, webhooks, go, done)) for _ in range(workers)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let every process import and connect
    started = time.perf_counter()
    go.set()
    results = [done.get(timeout=600) for _ in procs]
    took = time.perf_counter() - started
    for p in procs:
        p.join()
    return took, sum(r[0] for r in results), sum(r[1] for r in results)


def in_app(events: int, workers: int) -> dict[str, object]:
    with database() as url:
        _fill(url, events, "escalation.resolved", 1, _customer(url))
        took, delivered, _ = _run_workers(url, workers, webhooks=False)
    assert delivered == events, (delivered, events)
    return {
        "kind": "in_app",
        "workers": workers,
        "events": events,
        "s": round(took, 2),
        "per_s": round(events / took),
    }


class _Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.count += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _one_case(url: str) -> int:
    """One real case (the webhook body shows it), made through the use case."""
    from direkte.escalations.models import Escalation

    engine = make_engine(url)
    with engine.begin() as conn:
        center, customer = conn.execute(
            sa.text("SELECT c.id, u.id FROM centers c, users u WHERE u.role = 'customer'")
        ).one()
        vehicle = conn.execute(
            sa.text(
                "INSERT INTO vehicles (vin, model, model_year, odometer_km, created_at, updated_at)"
                " VALUES ('YV1XZ12345A000001', 'X', 2022, 1000, now(), now()) RETURNING id"
            )
        ).scalar()
        visit = conn.execute(
            sa.text(
                "INSERT INTO visits (external_id, center_id, customer_id, vehicle_id, concern,"
                " status, currency, checked_in_at, drivable, created_at, updated_at)"
                " VALUES ('B-1', :c, :u, :v, 'x', 'in_repair', 'NOK', now(), true, now(), now())"
                " RETURNING id"
            ),
            {"c": center, "u": customer, "v": vehicle},
        ).scalar()
        case = conn.execute(
            sa.insert(Escalation).returning(Escalation.id),
            {
                "visit_id": visit,
                "customer_id": customer,
                "center_id": center,
                "category": "diagnosis",
                "subject_id": 1,
                "reason": "bench",
                "status": "open",
                "tier": 1,
                "guardrail": {
                    "decision": "route",
                    "tier": 1,
                    "policy_version": "builtin-1",
                    "rules": [],
                    "explanation": "",
                    "reason": "routed",
                },
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
                "currency": "NOK",
            },
        ).scalar_one()
    engine.dispose()
    return int(case)


def hooks(events: int, workers: int) -> dict[str, object]:
    receiver = _Receiver()
    with database() as url:
        case = _one_case(url)
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            session.add(
                Webhook(
                    url=receiver.url,
                    events=["escalation.created"],
                    secret=new_secret(),
                    created_at=NOW,
                )
            )
            session.commit()
        engine.dispose()
        _fill(url, events, "escalation.opened", case, _customer(url))
        took, _, sent = _run_workers(url, workers, webhooks=True)
    receiver.server.shutdown()
    assert sent == receiver.count == events, (sent, receiver.count, events)
    return {
        "kind": "webhook",
        "workers": workers,
        "events": events,
        "s": round(took, 2),
        "per_s": round(events / took),
    }


def lag(interval: float, rate: float, seconds: float) -> dict[str, object]:
    """Events committed one at a time at ``rate``/s under a real ``direkte worker``."""
    with database() as url:
        recipient = _customer(url)
        env = {
            **os.environ,
            "DIREKTE_DATABASE_URL": url.replace("+psycopg", ""),
            "DIREKTE_SECRET_KEY": "bench-secret-0123456789-abcdefghijklmnopq",
            "DIREKTE_LOG_LEVEL": "warning",
        }
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "direkte"), "worker", "--interval", str(interval)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        engine = make_engine(url, pool_size=3)
        factory = make_sessionmaker(engine)
        committed: dict[int, float] = {}
        seen: dict[int, float] = {}
        stop = threading.Event()

        def observe() -> None:
            last = 0
            with engine.connect() as conn:
                while not stop.is_set() or len(seen) < len(committed):
                    rows = conn.execute(
                        sa.text(
                            "SELECT id, outbox_event_id FROM notifications WHERE id > :last"
                            " ORDER BY id"
                        ),
                        {"last": last},
                    ).all()
                    conn.commit()
                    at = time.perf_counter()
                    for note_id, event_id in rows:
                        seen.setdefault(event_id, at)
                        last = max(last, note_id)
                    time.sleep(0.01)

        try:
            time.sleep(3.0)  # the worker starts and runs its first round
            observer = threading.Thread(target=observe, daemon=True)
            observer.start()
            gap, end = 1.0 / rate, time.perf_counter() + seconds
            while time.perf_counter() < end:
                with factory() as session:
                    emit(
                        session,
                        at=NOW,
                        topic="escalation.resolved",
                        aggregate_kind="escalation",
                        aggregate_id=1,
                        recipients=[recipient],
                        payload={"escalation_id": 1},
                    )
                    event_id = session.scalar(sa.select(sa.func.max(OutboxEvent.id)))
                    session.commit()
                committed[int(event_id or 0)] = time.perf_counter()
                time.sleep(gap)
            stop.set()
            observer.join(timeout=interval * 5 + 10)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            engine.dispose()
    lags = sorted(1000 * (seen[e] - t) for e, t in committed.items() if e in seen)
    assert len(lags) == len(committed), (len(lags), len(committed))
    q = statistics.quantiles(lags, n=100)
    return {
        "kind": "lag",
        "interval_s": interval,
        "events": len(lags),
        "rate_per_s": rate,
        "p50_ms": round(q[49]),
        "p99_ms": round(q[98]),
        "max_ms": round(lags[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--hooks", type=int, default=2_000)
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    args = parser.parse_args()
    results = []
    for workers in (1, 2):
        results.append(in_app(args.events, workers))
        print(results[-1], flush=True)
    for workers in (1, 2):
        results.append(hooks(args.hooks, workers))
        print(results[-1], flush=True)
    for interval in (1.0, 0.2):
        results.append(lag(interval, rate=20.0, seconds=args.lag_seconds))
        print(results[-1], flush=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "notify.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
