"""What the notification and sweep benchmarks share: a one-center network and a
throw-away PostgreSQL database (created, migrated, dropped on the way out)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from direkte.db import upgrade_database

BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def network(*, regional_manager: bool = False) -> dict[str, object]:
    """One region, one program center open 08-16 on weekdays, its local manager on duty
    (and the region's manager when asked) and one customer; every password
    ``bench-password``."""
    hours = {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    staff: list[dict[str, object]] = [
        {
            "email": "lm@bench.example.com",
            "password": "bench-password",
            "role": "local_manager",
            "center": "C",
            "name": "LM",
            "on_duty": True,
        }
    ]
    if regional_manager:
        staff.append(
            {
                "email": "rm@bench.example.com",
                "password": "bench-password",
                "role": "regional_manager",
                "region": "R",
                "name": "RM",
            }
        )
    return {
        "regions": [{"code": "R", "name": "R", "countries": ["NO"], "time_zone": "Europe/Oslo"}],
        "centers": [
            {
                "code": "C",
                "name": "C",
                "region": "R",
                "country": "NO",
                "time_zone": "Europe/Oslo",
                "lat": 59.9,
                "lon": 10.8,
                "business_hours": hours,
                "program": "on",
            }
        ],
        "staff": staff,
        "customers": [
            {"email": "cu@bench.example.com", "password": "bench-password", "name": "Cu"}
        ],
    }


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new database named ``<prefix>_<random>``, migrated; its URL; dropped afterwards
    whatever happened."""
    admin = sa.create_engine(BASE, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
