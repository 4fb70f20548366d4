"""Prepare the peer helpdesk's database (idempotent); run by setup.sh in bench/peer/.venv.

Creates the database ``PEER_DATABASE`` (default ``direkte_peer``) on the
PostgreSQL at 127.0.0.1:5432 if it is missing, applies Django's, DRF's,
django-helpdesk's and the bare view's migrations, and makes sure there is a
staff user (``peer-staff``, password ``peer-bench``: the ticket API needs
``is_staff``) and one queue (``bench``). Prints the queue's id as JSON on its
last line, which ``bench/http_bench.py --peer`` reads.
"""

import json
import os
import sys

import psycopg
from psycopg import sql

STAFF_USER = "peer-staff"
STAFF_PASSWORD = "peer-bench"
QUEUE_SLUG = "bench"


def create_database(name: str) -> None:
    host = os.environ.get("PEER_DB_HOST", "127.0.0.1")
    port = os.environ.get("PEER_DB_PORT", "5432")
    user = os.environ.get("PEER_DB_USER", "postgres")
    with psycopg.connect(
        host=host, port=port, user=user, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")
    create_database(os.environ.get("PEER_DATABASE", "direkte_peer"))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)

    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from helpdesk.models import Queue

    Site.objects.update_or_create(id=1, defaults={"domain": "127.0.0.1", "name": "peer"})
    user_model = get_user_model()
    staff, _ = user_model.objects.get_or_create(
        username=STAFF_USER, defaults={"email": "peer-staff@peer.example.com"}
    )
    staff.is_staff = True
    staff.is_superuser = True
    staff.is_active = True
    staff.set_password(STAFF_PASSWORD)
    staff.save()
    queue, _ = Queue.objects.get_or_create(
        slug=QUEUE_SLUG,
        defaults={
            "title": "Bench",
            "email_address": "bench-queue@peer.example.com",
            # The queue's staff get a copy of every new ticket: e-mails rendered per create.
            "new_ticket_cc": "bench-team@peer.example.com",
            "allow_public_submission": False,
        },
    )
    print(json.dumps({"queue": queue.id, "user": STAFF_USER, "password": STAFF_PASSWORD}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
