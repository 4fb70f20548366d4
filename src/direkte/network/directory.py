"""The look-ups other domains make on the network: who manages a center, who advises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from direkte.network.models import Center, Role, User


class ManagerLike(Protocol):
    """What picking a center's managers reads: a ``User``, or a row of its columns."""

    @property
    def role(self) -> Role: ...
    @property
    def on_duty(self) -> bool: ...
    @property
    def active(self) -> bool: ...
    @property
    def deputy(self) -> Self | None: ...


M = TypeVar("M", bound=ManagerLike)


def _pick_local(managers: Sequence[M]) -> M | None:
    """The on-duty local manager, else an active deputy of one, else the first."""
    on_duty = [m for m in managers if m.on_duty]
    if on_duty:
        return on_duty[0]
    deputies = [m.deputy for m in managers if m.deputy is not None and m.deputy.active]
    return deputies[0] if deputies else (managers[0] if managers else None)


# Built once: it runs on every escalation request and every visit read. Public
# for the escalation facts, which add each manager's open cases to it.
MANAGERS_WHERE = (
    User.active,
    sa.or_(
        sa.and_(User.center_id == sa.bindparam("center_id"), User.role == Role.local_manager),
        sa.and_(User.region_id == sa.bindparam("region_id"), User.role == Role.regional_manager),
    ),
)
MANAGERS_ORDER = (User.on_duty.desc(), User.id)
MANAGERS = (
    sa.select(User)
    .where(*MANAGERS_WHERE)
    .order_by(*MANAGERS_ORDER)
    .options(joinedload(User.deputy))
)


def find_managers(
    session: Session, *, center_id: int, region_id: int
) -> tuple[User | None, User | None]:
    """The center's local manager (as ``_pick_local`` says) and its regional manager."""
    people = list(session.scalars(MANAGERS, {"center_id": center_id, "region_id": region_id}))
    return pick_managers(people)


def pick_managers(people: Sequence[M]) -> tuple[M | None, M | None]:
    """From the rows of ``MANAGERS``: the local manager (``_pick_local``) and the regional."""
    local = _pick_local([p for p in people if p.role == Role.local_manager])
    regional = next((p for p in people if p.role == Role.regional_manager), None)
    return local, regional


def find_local_manager(session: Session, center: Center) -> User | None:
    """The center's on-duty local manager, else a deputy of one, else any local manager."""
    return find_managers(session, center_id=center.id, region_id=center.region_id)[0]


def find_regional_manager(session: Session, center: Center) -> User | None:
    """The regional manager over the center's region (on duty first)."""
    return find_managers(session, center_id=center.id, region_id=center.region_id)[1]


def find_ops_ids(session: Session) -> list[int]:
    """The active ops users (who moderate held requests)."""
    return list(
        session.scalars(
            sa.select(User.id).where(User.active, User.role == Role.ops_admin).order_by(User.id)
        )
    )


def find_advisor(session: Session, center: Center, preferred_id: int | None) -> User | None:
    """The visit's own advisor when set and active, else the center's first advisor."""
    if preferred_id is not None:
        advisor = session.get(User, preferred_id)
        if advisor is not None and advisor.active:
            return advisor
    return session.scalars(
        sa.select(User)
        .where(User.center_id == center.id, User.role == Role.service_advisor, User.active)
        .order_by(User.id)
        .limit(1)
    ).first()
