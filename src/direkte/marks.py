"""Dirty marks for the daily figures: a change that alters a center's figures writes
``(center, instant)`` rows in its own transaction, and the worker recomputes the local
days those instants fall on (``analytics.rollups``), then deletes the marks it read.

Instants, not days: the writer needs no time zone; the worker turns each instant into
the center's local day. Rows are only appended (no unique key to contend on); the
worker reads a batch, recomputes each (center, day) once, and deletes the rows it read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from direkte.db import Base, UTCDateTime


class FigureDirtyMark(Base):
    __tablename__ = "figure_dirty_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(sa.Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


_INSERT = sa.insert(FigureDirtyMark)


def mark_dirty(session: Session, center_id: int, instants: Iterable[datetime | None]) -> None:
    """Mark the center's days of ``instants`` (None skipped) for recomputation."""
    rows = [{"center_id": center_id, "at": at} for at in {i for i in instants if i is not None}]
    if rows:
        session.connection().execute(_INSERT, rows)
