#!/usr/bin/env python
"""django-admin for the peer helpdesk (bench only; runs in bench/peer/.venv)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
