"""The history of centers' program states (``center_program_changes``): every change of a
center's ``program`` is recorded with when, who and why, in the change's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from direkte.network.models import Center, CenterProgramChange, Program


def record_program_change(
    session: Session,
    center: Center,
    program: Program,
    *,
    at: datetime,
    actor: str,
    reason: str | None = None,
) -> bool:
    """Move ``center`` to ``program`` and record the change; False (nothing written) when
    it is already there. The center must have an id (flushed)."""
    if center.program == program:
        return False
    center.program = program
    center.updated_at = at
    session.add(
        CenterProgramChange(
            center_id=center.id, program=program, changed_at=at, actor=actor[:254], reason=reason
        )
    )
    return True


def record_program_state(
    session: Session,
    center_id: int,
    program: Program,
    *,
    at: datetime,
    actor: str,
    reason: str | None = None,
) -> None:
    """Record that ``center_id`` is in ``program`` from ``at`` on (its row already says so)."""
    session.add(
        CenterProgramChange(
            center_id=center_id, program=program, changed_at=at, actor=actor[:254], reason=reason
        )
    )
