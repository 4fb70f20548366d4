"""The program's rollout (DESIGN §6): centers' program states, waves with gates, and
moving a wave's centers into the program when its gate holds on the figures of the
centers already in it."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import access
from direkte.analytics.figures import (
    FIGURE_NAMES,
    RATIOS,
    FiguresInvalid,
    ProgramHistory,
    Scope,
    read_rows,
    totals_of,
)
from direkte.analytics.models import RolloutWave
from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.errors import Conflict, NotFound
from direkte.network.models import Center, Program, Region, User
from direkte.network.service import record_program_change

GATE_WINDOW_DAYS = 28
IN_PROGRAM = (Program.pilot, Program.on)


class WaveNotFound(NotFound):
    code = "wave_not_found"


class GateFailed(Conflict):
    code = "gate_failed"


class WaveDone(Conflict):
    code = "wave_done"


def gate_window(today: date) -> tuple[date, date]:
    """The last 28 complete local days: [today - 28, today - 1]."""
    return today - timedelta(days=GATE_WINDOW_DAYS), today - timedelta(days=1)


def program_totals(session: Session, today: date) -> dict[str, int]:
    """The summed day figures of the centers now in the program, over the gate window,
    on the days they were in it."""
    first, last = gate_window(today)
    centers = list(session.scalars(sa.select(Center).where(Center.program.in_(IN_PROGRAM))))
    regions = {r.id: r for r in session.scalars(sa.select(Region))}
    rows = read_rows(
        session, Scope(first, last, centers, regions, None), programs=frozenset(IN_PROGRAM)
    )
    return totals_of(rows)


def check_gate(gate: list[dict[str, Any]], totals: dict[str, int]) -> list[dict[str, Any]]:
    """Each condition with its measured value and whether it holds (no data: it fails)."""
    out = []
    for condition in gate:
        measured = RATIOS[condition["figure"]].of(totals)
        value = float(condition["value"])
        holds = measured is not None and (
            measured <= value if condition["op"] == "<=" else measured >= value
        )
        out.append({**condition, "measured": measured, "holds": holds})
    return out


def _status(wave: RolloutWave, today: date, checked: list[dict[str, Any]]) -> str:
    if wave.done_at is not None:
        return "done"
    if wave.date > today:
        return "planned"
    return "ready" if all(c["holds"] for c in checked) else "blocked"


def rollout_state(session: Session, clock: Clock, viewer: User | None) -> dict[str, Any]:
    """Centers with their program state and since when, and the waves with their status
    and each gate condition's measured value. Raises OpsOnly."""
    if viewer is not None:
        access.require_ops(viewer)
    today = clock.now().date()
    centers = list(session.scalars(sa.select(Center).order_by(Center.code)))
    history = ProgramHistory(session, centers)
    codes = {c.id: c.code for c in centers}
    totals = program_totals(session, today)
    first, last = gate_window(today)
    waves = []
    for wave in session.scalars(sa.select(RolloutWave).order_by(RolloutWave.position)):
        checked = check_gate(wave.gate, totals)
        waves.append(
            {
                "id": wave.id,
                "name": wave.name,
                "date": wave.date,
                "program": wave.program.value,
                "centers": [codes[i] for i in wave.center_ids if i in codes],
                "gate": [
                    {
                        "figure": c["figure"],
                        "op": c["op"],
                        "value": c["value"],
                        "measured": c["measured"],
                        "holds": c["holds"],
                    }
                    for c in checked
                ],
                "status": _status(wave, today, checked),
                "done_at": wave.done_at,
                "done_by": wave.done_by,
                "forced": wave.forced,
            }
        )
    return {
        "centers": [
            {"code": c.code, "program": c.program.value, "since": history.since(c.id)}
            for c in centers
        ],
        "waves": waves,
        "gate_window": {"from": first, "to": last},
    }


def _actor(viewer: User | None) -> tuple[Actor, str]:
    if viewer is None:
        return Actor.system("cli"), "system"
    return Actor.user(viewer), viewer.email


def put_rollout(
    session: Session, clock: Clock, viewer: User | None, *, body: dict[str, Any]
) -> dict[str, Any]:
    """Set centers' program states and replace the planned waves.

    Raises OpsOnly; FiguresInvalid naming each bad place (an unknown center, wave or
    figure, a center in two waves, a done wave changed).
    """
    if viewer is not None:
        access.require_ops(viewer)
    now = clock.now()
    actor, who = _actor(viewer)
    centers = {c.code: c for c in session.scalars(sa.select(Center))}
    existing = {w.id: w for w in session.scalars(sa.select(RolloutWave))}
    problems: list[dict[str, str]] = []
    for i, state in enumerate(body.get("centers", [])):
        if state["code"] not in centers:
            problems.append(
                {"field": f"centers[{i}].code", "message": f"unknown center {state['code']!r}"}
            )
    seen: dict[str, int] = {}
    ids: set[int] = set()
    for i, wave in enumerate(body["waves"]):
        wave_id = wave.get("id")
        if wave_id is not None:
            if wave_id not in existing:
                problems.append({"field": f"waves[{i}].id", "message": f"unknown wave {wave_id}"})
            elif wave_id in ids:
                problems.append({"field": f"waves[{i}].id", "message": "listed twice"})
            elif existing[wave_id].done_at is not None and _changed(
                existing[wave_id], wave, centers
            ):
                problems.append({"field": f"waves[{i}]", "message": "a done wave cannot change"})
            ids.add(wave_id)
        for j, code in enumerate(wave["centers"]):
            if code not in centers:
                problems.append(
                    {"field": f"waves[{i}].centers[{j}]", "message": f"unknown center {code!r}"}
                )
            elif code in seen:
                problems.append(
                    {
                        "field": f"waves[{i}].centers[{j}]",
                        "message": f"center {code!r} is already in waves[{seen[code]}]",
                    }
                )
            else:
                seen[code] = i
        for j, condition in enumerate(wave["gate"]):
            if condition["figure"] not in RATIOS:
                problems.append(
                    {
                        "field": f"waves[{i}].gate[{j}].figure",
                        "message": f"unknown figure {condition['figure']!r};"
                        f" one of {', '.join(FIGURE_NAMES)}",
                    }
                )
            if not math.isfinite(float(condition["value"])):
                problems.append(
                    {"field": f"waves[{i}].gate[{j}].value", "message": "must be a finite number"}
                )
    if problems:
        raise FiguresInvalid(problems)
    for state in body.get("centers", []):
        center = centers[state["code"]]
        if record_program_change(
            session, center, Program(state["program"]), at=now, actor=who, reason="rollout plan"
        ):
            record_event(
                session,
                at=now,
                actor=actor,
                action="rollout.program_changed",
                subject_kind="center",
                subject_id=center.id,
                data={"center": center.code, "program": state["program"]},
            )
    for wave_id, wave in existing.items():
        if wave_id not in ids and wave.done_at is None:
            session.delete(wave)
    done_kept = [w for w in existing.values() if w.done_at is not None and w.id not in ids]
    for position, wave_in in enumerate(body["waves"], start=len(done_kept)):
        row = existing.get(wave_in.get("id") or 0)
        if row is None:
            row = RolloutWave(created_at=now, done_at=None, forced=False)
            session.add(row)
        if row.done_at is None:
            row.name = wave_in["name"]
            row.date = wave_in["date"]
            row.program = Program(wave_in.get("program", "pilot"))
            row.center_ids = [centers[code].id for code in wave_in["centers"]]
            row.gate = [
                {"figure": c["figure"], "op": c["op"], "value": float(c["value"])}
                for c in wave_in["gate"]
            ]
        row.position = position
        row.updated_at = now
    for position, wave in enumerate(sorted(done_kept, key=lambda w: w.position)):
        wave.position = position
    session.flush()
    record_event(
        session,
        at=now,
        actor=actor,
        action="rollout.planned",
        subject_kind="rollout",
        subject_id=None,
        data={"waves": [w["name"] for w in body["waves"]]},
    )
    return rollout_state(session, clock, None)


def _changed(wave: RolloutWave, wave_in: dict[str, Any], centers: dict[str, Center]) -> bool:
    ids = [centers[c].id if c in centers else -1 for c in wave_in["centers"]]
    gate = [
        {"figure": c["figure"], "op": c["op"], "value": float(c["value"])} for c in wave_in["gate"]
    ]
    return (
        wave.name != wave_in["name"]
        or wave.date != wave_in["date"]
        or wave.program.value != wave_in.get("program", "pilot")
        or wave.center_ids != ids
        or wave.gate != gate
    )


def advance_wave(
    session: Session,
    clock: Clock,
    viewer: User | None,
    *,
    wave_id: int,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Move the wave's centers into its program when its gate holds (or ``force`` with a
    reason); recorded in the program history and the audit trail.

    Raises OpsOnly, WaveNotFound, WaveDone, GateFailed (every failing condition with its
    measured value), FiguresInvalid (force without a reason).
    """
    if viewer is not None:
        access.require_ops(viewer)
    if force and not (reason and reason.strip()):
        raise FiguresInvalid([{"field": "reason", "message": "an override needs a reason"}])
    wave = session.get(RolloutWave, wave_id, with_for_update=True)
    if wave is None:
        raise WaveNotFound("no such wave")
    if wave.done_at is not None:
        raise WaveDone("this wave has already advanced", {"done_at": wave.done_at.isoformat()})
    now = clock.now()
    checked = check_gate(wave.gate, program_totals(session, now.date()))
    failing = [c for c in checked if not c["holds"]]
    if failing and not force:
        raise GateFailed(
            f"{len(failing)} gate condition(s) fail on the program centers' last"
            f" {GATE_WINDOW_DAYS} days",
            {
                "failing": [
                    {k: c[k] for k in ("figure", "op", "value", "measured")} for c in failing
                ]
            },
        )
    actor, who = _actor(viewer)
    note = f"wave {wave.name!r}" + (f" (override: {reason})" if failing else "")
    moved = []
    for center in session.scalars(sa.select(Center).where(Center.id.in_(wave.center_ids))):
        if record_program_change(session, center, wave.program, at=now, actor=who, reason=note):
            moved.append(center.code)
    wave.done_at = now
    wave.done_by = who
    wave.forced = bool(failing)
    wave.force_reason = reason if failing else None
    wave.updated_at = now
    record_event(
        session,
        at=now,
        actor=actor,
        action="rollout.wave_forced" if failing else "rollout.wave_advanced",
        subject_kind="rollout_wave",
        subject_id=wave.id,
        data={
            "wave": wave.name,
            "program": wave.program.value,
            "centers": sorted(moved),
            "gate": [
                {k: c[k] for k in ("figure", "op", "value", "measured", "holds")} for c in checked
            ],
            "reason": reason,
        },
    )
    session.flush()
    return {
        "id": wave.id,
        "name": wave.name,
        "program": wave.program.value,
        "moved": sorted(moved),
        "forced": wave.forced,
        "gate": checked,
        "done_at": now,
        "done_by": who,
    }
