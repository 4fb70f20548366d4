"""Rules about a visit's revisions that more than one reader needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar


class _Revision(Protocol):
    @property
    def approved_at(self) -> datetime | None: ...


R = TypeVar("R", bound=_Revision)


def estimate_baseline(estimates: Sequence[R]) -> R | None:
    """The revision that materiality is measured from: the first approved estimate,
    else the first estimate (API.md, Integration); None when there are none.
    ``estimates`` are in revision order."""
    return next((e for e in estimates if e.approved_at is not None), None) or (
        estimates[0] if estimates else None
    )
