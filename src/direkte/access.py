"""Who may see and do what: every rule of access in one place (DESIGN §1, §3).

Every use case asks this module before it reads or changes anything, so a rule
is written once and every refusal of one kind carries one error code:

- not logged in: 401 ``not_authenticated`` (raised by the caller's dependency);
- a role that may never do this: 403 ``customers_only``, ``staff_only``,
  ``ops_only``, ``managers_only``;
- figures beyond the staff member's own center or region: 403
  ``figures_out_of_scope``;
- a staff member who may see a case but not act on it at its tier:
  403 ``not_case_handler``; resolving an appeal against one's own outcome:
  403 ``own_outcome``;
- anything the caller may not see: 404 with the object's own code
  (``visit_not_found``, ``escalation_not_found``), never 403, so that nobody
  learns that another user's object exists.

Visibility (DESIGN §1): a customer sees their own visits and cases; an advisor
and a local manager their center's; a regional manager their region's; ops all.
A held case is the customer's and ops' alone until ops release it.

The filters take the columns to filter on, so this module knows no domain's
tables beyond the network's and sits below every domain that asks it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

import sqlalchemy as sa

from direkte.errors import Forbidden
from direkte.network.models import Center, Role, User


class CustomersOnly(Forbidden):
    code = "customers_only"


class StaffOnly(Forbidden):
    code = "staff_only"


class OpsOnly(Forbidden):
    code = "ops_only"


class ManagersOnly(Forbidden):
    code = "managers_only"


class NotCaseHandler(Forbidden):
    code = "not_case_handler"


class OwnOutcome(Forbidden):
    code = "own_outcome"


class FiguresOutOfScope(Forbidden):
    code = "figures_out_of_scope"


# Which tier of cases each role works (DESIGN §3: 0 advisor, 1 local, 2 regional).
_TIER_OF_ROLE = {Role.service_advisor: 0, Role.local_manager: 1, Role.regional_manager: 2}


def require_customer(viewer: User) -> None:
    """Raises CustomersOnly unless the viewer is a customer."""
    if viewer.role != Role.customer:
        raise CustomersOnly("only the customer who owns it can do this")


def require_staff(viewer: User) -> None:
    """Raises StaffOnly unless the viewer is staff (ops included)."""
    if viewer.role == Role.customer:
        raise StaffOnly("staff only")


def require_ops(viewer: User) -> None:
    """Raises OpsOnly unless the viewer is ops."""
    if viewer.role != Role.ops_admin:
        raise OpsOnly("ops_admin only")


def require_manager(viewer: User) -> None:
    """Raises ManagersOnly unless the viewer is a local or regional manager."""
    if viewer.role not in (Role.local_manager, Role.regional_manager):
        raise ManagersOnly("local and regional managers only")


def sees_decision_inputs(viewer: User) -> bool:
    """Staff and ops see a guardrail decision whole; a customer without its inputs."""
    return viewer.role != Role.customer


def is_staff(viewer: User) -> bool:
    return viewer.role != Role.customer


def inbox_tier(viewer: User) -> int:
    """The tier whose cases fill the viewer's inbox. Raises StaffOnly."""
    require_staff(viewer)
    tier = _TIER_OF_ROLE.get(viewer.role)
    if tier is None:
        raise StaffOnly("the inbox is for advisors and managers")
    return tier


def owned_filter(viewer: User, *, customer_id: Any, center_id: Any) -> sa.ColumnElement[bool]:
    """Rows the viewer may see, given the columns naming their customer and center."""
    return owned_rule(
        viewer.role, customer_id=customer_id, center_id=center_id, scope=owned_scope(viewer)
    )


def owned_rule(
    role: Role, *, customer_id: Any, center_id: Any, scope: Any
) -> sa.ColumnElement[bool]:
    """The rule of ``owned_filter`` for a role: ``scope`` is the one value it compares
    with (``owned_scope``), or a bound parameter standing for it in a statement built
    once per role and run with the viewer's value."""
    if role == Role.customer:
        return sa.and_(customer_id == scope)
    if role in (Role.service_advisor, Role.local_manager):
        return sa.and_(center_id == scope)
    if role == Role.regional_manager:
        region_centers = sa.select(Center.id).where(Center.region_id == scope)
        return sa.and_(center_id.in_(region_centers.scalar_subquery()))
    if role == Role.ops_admin:
        return sa.true()
    return sa.false()


def owned_scope(viewer: User) -> int:
    """What the viewer's rule compares with: their own id (a customer), their center
    (an advisor, a local manager), their region (a regional manager); -1 when they
    have none, which matches nothing."""
    if viewer.role == Role.customer:
        return viewer.id
    if viewer.role in (Role.service_advisor, Role.local_manager):
        return viewer.center_id or -1
    if viewer.role == Role.regional_manager:
        return viewer.region_id or -1
    return -1


def case_filter(
    viewer: User, *, customer_id: Any, center_id: Any, held_back: Any
) -> sa.ColumnElement[bool]:
    """Cases the viewer may see: as ``owned_filter``, but a case held back (held by the
    guardrails and never released, also once rejected or withdrawn) only by its
    customer and ops."""
    owned = owned_filter(viewer, customer_id=customer_id, center_id=center_id)
    if viewer.role in (Role.customer, Role.ops_admin):
        return owned
    return sa.and_(owned, held_back.is_(False))


class Case(Protocol):
    """What the acting rules read of a case."""

    @property
    def tier(self) -> int: ...

    @property
    def assignee_id(self) -> int | None: ...

    @property
    def center_id(self) -> int: ...


def require_case_handler(viewer: User, case: Case, *, assignee_deputy_id: int | None) -> None:
    """Raise NotCaseHandler unless the viewer may act on a case they can see.

    Acting belongs to the tier's assignee or the assignee's deputy, or to a
    manager above the case's tier (a local manager over tier 0, a regional manager
    over tiers 0 and 1); advisors act only at tier 0, and nobody below the case's
    tier acts on it. A case nobody is assigned to
    may be taken up by anyone of its tier's role. Ops moderate, they do not act.
    Visibility (center, region) is checked before this, by ``case_filter``.
    """
    tier = _TIER_OF_ROLE.get(viewer.role)
    if tier is None:
        raise NotCaseHandler("only the case's handlers act on it")
    if tier < case.tier:
        raise NotCaseHandler(
            f"this case is at tier {case.tier}; its handler acts on it",
            {"case_tier": case.tier, "your_tier": tier},
        )
    if tier > case.tier:
        return  # a manager above the case's tier may step in
    if case.assignee_id is None or viewer.id in (case.assignee_id, assignee_deputy_id):
        return
    raise NotCaseHandler(
        "the case is assigned to someone else (or their deputy)",
        {"case_tier": case.tier, "your_tier": tier},
    )


def require_not_own_outcome(viewer: User, earlier_resolvers: Collection[int]) -> None:
    """Raise OwnOutcome when the viewer gave the outcome now under appeal."""
    if viewer.id in earlier_resolvers:
        raise OwnOutcome("an appeal against your own outcome goes to someone else")


def own_filter(viewer: User, *, user_id: Any) -> sa.ColumnElement[bool]:
    """Rows addressed to the viewer alone (in-app notifications): anyone else's are
    invisible (404), ops' too."""
    return sa.and_(user_id == viewer.id)


def figures_scope(
    viewer: User, *, center: Center | None, region_id: int | None
) -> tuple[int | None, int | None]:
    """The (center id, region id) whose figures the viewer reads, from what they asked.

    Ops read any; a regional manager their region's (or one center of it); an advisor
    or a local manager their center's. Asking beyond that raises FiguresOutOfScope;
    customers get StaffOnly.
    """
    require_staff(viewer)
    center_id = center.id if center is not None else None
    if viewer.role == Role.ops_admin:
        return center_id, region_id
    if viewer.role == Role.regional_manager:
        if region_id not in (None, viewer.region_id) or (
            center is not None and center.region_id != viewer.region_id
        ):
            raise FiguresOutOfScope("a regional manager reads their own region's figures")
        return center_id, viewer.region_id
    if (center_id not in (None, viewer.center_id)) or (
        region_id is not None and (viewer.center is None or viewer.center.region_id != region_id)
    ):
        raise FiguresOutOfScope("center staff read their own center's figures")
    return viewer.center_id, None
