"""Statements and commits per ticket create of the peer (run by setup.sh's venv; prints JSON).

    bench/peer/.venv/bin/python bench/peer/count_statements.py

Logs the staff user in with Django's test client (no server needed), creates one
ticket through the REST API as a warm-up, then ``--tickets`` more, counting the SQL
statements Django sends (``CaptureQueriesContext``) and the transactions the
database committed (``pg_stat_database.xact_commit`` of the peer's database, read
from another connection: each autocommitted statement is a transaction too).
"""

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")


def commits(dbname: str) -> int:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{dbname}") as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (dbname,)
        ).fetchone()
    return int(row[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from helpdesk.models import Queue
    from prepare import QUEUE_SLUG, STAFF_PASSWORD, STAFF_USER

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    dbname = settings.DATABASES["default"]["NAME"]
    queue = Queue.objects.get(slug=QUEUE_SLUG)
    client = Client(enforce_csrf_checks=True)
    client.get("/helpdesk/login/")
    login = client.post(
        "/helpdesk/login/",
        {
            "username": STAFF_USER,
            "password": STAFF_PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
            "next": "/helpdesk/",
        },
    )
    assert login.status_code == 302, login.status_code

    def create(n: int) -> None:
        reply = client.post(
            "/helpdesk/api/tickets/",
            {
                "queue": queue.id,
                "title": f"Count ticket {n}",
                "description": "After the service the brakes squeal when cold.",
                "submitter_email": "customer@peer.example.com",
                "priority": 3,
            },
            content_type="application/json",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        )
        assert reply.status_code == 201, (reply.status_code, reply.content[:300])

    create(0)
    time.sleep(1.5)  # let the server flush its statistics
    before = commits(dbname)
    with CaptureQueriesContext(connection) as captured:
        for n in range(1, args.tickets + 1):
            create(n)
    connection.close()  # ends the session: its statistics are flushed
    time.sleep(1.5)
    after = commits(dbname)
    kinds = Counter(" ".join(q["sql"].split())[:42] for q in captured.captured_queries)
    print(
        json.dumps(
            {
                "statements_per_ticket": len(captured.captured_queries) / args.tickets,
                "commits_per_ticket": (after - before) / args.tickets,
                "statements": {k: v / args.tickets for k, v in kinds.most_common()},
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
