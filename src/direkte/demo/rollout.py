"""The demo's program history and waves: every center starts `off`; a pilot wave and an
`on` wave went before the demo's visits began, and two waves wait behind gates, so that
the figures by program state, `GET /rollout` and `direkte rollout status` show something
on a fresh start."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.analytics.models import RolloutWave
from direkte.network.models import Center, CenterProgramChange, Program
from direkte.network.service import record_program_state

GATE = [
    {"figure": "same_day_resolution", "op": ">=", "value": 0.6},
    {"figure": "escalation_rate_per_100", "op": "<=", "value": 15.0},
    {"figure": "manager_load", "op": "<=", "value": 3.0},
    {"figure": "satisfaction", "op": ">=", "value": 3.5},
]


def load_demo_rollout(session: Session, *, now: datetime, loaded_at: datetime, days: int) -> None:
    """Rewrite the loaded centers' history as a rollout: off from ``loaded_at``, the
    pilot wave ``days + 20`` days ago, the `on` wave ``days + 10`` days ago; plan the
    off centers in two more waves. The caller commits."""
    centers = list(session.scalars(sa.select(Center).order_by(Center.code)))
    session.execute(
        sa.update(CenterProgramChange)
        .where(CenterProgramChange.changed_at == loaded_at)
        .values(program=Program.off, actor="demo", reason="the demo network, before the program")
    )
    pilot = [c for c in centers if c.program == Program.pilot]
    on = [c for c in centers if c.program == Program.on]
    off = [c for c in centers if c.program == Program.off]
    done = [
        ("Pilot", Program.pilot, pilot, now - timedelta(days=days + 20)),
        ("First centers on", Program.on, on, now - timedelta(days=days + 10)),
    ]
    position = 0
    for name, program, members, at in done:
        for center in members:
            record_program_state(
                session, center.id, program, at=at, actor="demo", reason=f"wave {name!r}"
            )
        session.add(
            RolloutWave(
                position=position,
                name=name,
                date=at.date(),
                program=program,
                center_ids=[c.id for c in members],
                gate=GATE if position else [],
                done_at=at,
                done_by="demo",
                forced=False,
                created_at=loaded_at,
                updated_at=at,
            )
        )
        position += 1
    half = len(off) // 2 + len(off) % 2
    for name, members, ahead in (
        ("Second pilot wave", off[:half], 7),
        ("Everyone else", off[half:], 42),
    ):
        if members:
            session.add(
                RolloutWave(
                    position=position,
                    name=name,
                    date=(now + timedelta(days=ahead)).date(),
                    program=Program.pilot,
                    center_ids=[c.id for c in members],
                    gate=GATE,
                    done_at=None,
                    done_by=None,
                    forced=False,
                    created_at=loaded_at,
                    updated_at=loaded_at,
                )
            )
            position += 1
    session.flush()
