#!/bin/sh
# Set up the peer helpdesk for `bench/http_bench.py --peer` (idempotent; see docs/performance.md).
#
# django-helpdesk 2.6.1 with Django, DRF and gunicorn, pinned in requirements.txt,
# in its own virtualenv (bench/peer/.venv, git-ignored; never the product's),
# on the PostgreSQL at 127.0.0.1:5432 (user postgres, trust) in its own database
# (PEER_DATABASE, default direkte_peer): migrations, a staff user and a queue.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
if [ ! -x "$here/.venv/bin/python" ]; then
    "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
cd "$here"
exec "$here/.venv/bin/python" prepare.py
