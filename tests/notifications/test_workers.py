"""Several workers deliver every event once on every channel, and a worker killed in
the middle of sending loses nothing: what it had claimed is sent by another once its
lease has expired. Real commits, real SMTP server, real HTTP receiver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from direkte.db import make_engine, make_sessionmaker
from direkte.jobs.sending import Outbound, send_due
from direkte.jobs.sweeps import deliver_outbox
from direkte.notifications.models import Delivery, Notification, OutboxEvent, Webhook
from direkte.notifications.sending import LEASE
from direkte.notifications.service import outbox_row
from direkte.notifications.webhooks import new_secret
from tests.conftest import T0
from tests.notifications.conftest import Committed, Receiver, SmtpServer

NOW = T0 + timedelta(minutes=1)


def add_webhook(db: Committed, url: str) -> None:
    with db.factory() as session:
        session.add(
            Webhook(url=url, events=["escalation.created"], secret=new_secret(), created_at=T0)
        )
        session.commit()


def add_events(db: Committed, n: int, recipients: list[int]) -> None:
    """``n`` committed "a case was opened" events about one real case (the webhook body
    shows it)."""
    case_id = db.open_case("RO-MANY")
    with db.factory() as session:
        session.execute(sa.delete(OutboxEvent))  # the opening's own event: not counted
        rows = [
            outbox_row(
                at=T0,
                topic="escalation.opened",
                aggregate_kind="escalation",
                aggregate_id=case_id,
                recipients=list(recipients),
                payload={"escalation_id": case_id, "n": i},
            )
            for i in range(n)
        ]
        session.execute(sa.insert(OutboxEvent), rows)
        session.commit()


class TestFourWorkers:
    EVENTS = 2000
    WORKERS = 4

    def test_each_event_is_delivered_once_in_app_by_mail_and_by_webhook(
        self, committed: Committed, smtp: SmtpServer, receiver: Receiver
    ) -> None:
        ola = committed.user_id("ola@example.no")
        add_webhook(committed, receiver.url())
        add_events(committed, self.EVENTS, [ola])
        outbound = Outbound(smtp_url=smtp.url, allow_private=True)
        start = threading.Barrier(self.WORKERS)

        def worker() -> tuple[int, int]:
            engine = make_engine(committed.url, pool_size=2)
            try:
                factory = make_sessionmaker(engine)
                start.wait(timeout=60)
                fanned = sent = 0
                while True:  # a worker's round: fan out, then send what is due
                    done = deliver_outbox(factory, now=NOW, batch=50, channels=outbound.channels)
                    went = send_due(factory, now=NOW, outbound=outbound, batch=50).sent
                    fanned, sent = fanned + done.delivered, sent + went
                    if not done.claimed and not went:
                        return fanned, sent
            finally:
                engine.dispose()

        with ThreadPoolExecutor(self.WORKERS) as pool:
            done = [f.result() for f in [pool.submit(worker) for _ in range(self.WORKERS)]]

        assert sum(f for f, _ in done) == self.EVENTS
        with committed.factory() as session:
            failed = session.execute(
                sa.select(Delivery.channel, Delivery.last_error).where(
                    Delivery.delivered_at.is_(None)
                )
            ).all()
        assert failed == []
        assert sum(s for _, s in done) == 2 * self.EVENTS  # one mail, one call per event
        with committed.factory() as session:
            assert session.scalar(sa.select(sa.func.count(Notification.id))) == self.EVENTS
            assert (
                session.scalar(
                    sa.select(sa.func.count(Delivery.id)).where(Delivery.delivered_at.is_(None))
                )
                == 0
            )
        ids = [m["Message-ID"] for m in smtp.inbox.messages]
        assert len(ids) == len(set(ids)) == self.EVENTS
        hooks = [headers["webhook-id"] for _, headers, _ in receiver.requests]
        assert len(hooks) == len(set(hooks)) == self.EVENTS


KILLED_WORKER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from direkte.clock import FixedClock
    from direkte.db import make_engine, make_sessionmaker
    from direkte.jobs.sending import Outbound
    from direkte.jobs.sweeps import run_once

    factory = make_sessionmaker(make_engine(sys.argv[1]))
    run_once(factory, FixedClock(datetime.fromisoformat(sys.argv[2])), Outbound(allow_private=True))
    """
)


class TestKilledWorker:
    EVENTS = 30

    def test_what_a_killed_worker_claimed_is_sent_by_another_after_the_lease(
        self, committed: Committed, receiver: Receiver
    ) -> None:
        add_webhook(committed, receiver.url())
        add_events(committed, self.EVENTS, [committed.user_id("ola@example.no")])
        receiver.delay = 60.0  # the first worker hangs in the middle of its batch
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_WORKER, committed.url, NOW.isoformat()], env=env
        )
        try:
            deadline = time.monotonic() + 60
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert receiver.requests, "the worker never started sending"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        receiver.delay = 0.0
        outbound = Outbound(allow_private=True)

        early = send_due(committed.factory, now=NOW + LEASE / 2, outbound=outbound)
        assert early.sent == 0  # still leased by the dead worker: nobody else takes it

        later = send_due(
            committed.factory, now=NOW + LEASE + timedelta(seconds=1), outbound=outbound
        )

        assert later.sent == self.EVENTS
        with committed.factory() as session:
            pending = session.scalar(
                sa.select(sa.func.count(Delivery.id)).where(Delivery.delivered_at.is_(None))
            )
            assert pending == 0
        assert len({h["webhook-id"] for _, h, _ in receiver.requests}) == self.EVENTS
