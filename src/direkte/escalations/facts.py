"""Gathering the facts a guardrail decision reads, as they are at the request."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from rapidfuzz.distance import Indel
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased, joinedload, load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from direkte import direct
from direkte.escalations.models import (
    ACTIVE,
    Category,
    Escalation,
    EscalationEvent,
    EscalationStatus,
)
from direkte.guardrails.engine import Facts
from direkte.network.models import Center, Role, User
from direkte.network.service import MANAGERS_ORDER, MANAGERS_WHERE, pick_managers
from direkte.policy.service import policy_columns
from direkte.visits.models import (
    Diagnosis,
    Estimate,
    Vehicle,
    Visit,
    WarrantyCoverage,
    WarrantyDecision,
)
from direkte.visits.revisions import estimate_baseline

OPEN_LIKE = (EscalationStatus.held, *ACTIVE)


# What ``_plain`` drops: every character that is neither alphanumeric (``str.isalnum``)
# nor white space (``str.isspace``). For str patterns ``\w`` is exactly ``isalnum`` plus
# the underscore and ``\s`` exactly ``isspace`` (a test checks every code point); one
# substitution in C instead of a Python test per character.
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_PUNCTUATION.sub("", folded).split())


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0 to 1, ignoring case, accents and punctuation.

    Twice the longest common subsequence over the total length (normalized Indel
    similarity, rapidfuzz: under a microsecond for two complaints, where
    difflib's SequenceMatcher took about 600 us and, a heuristic, found a little less).
    """
    return float(Indel.normalized_similarity(_plain(a), _plain(b)))


# Every statement here is built once with bound parameters: a request runs
# about ten of them, and building a statement costs more than running it.
_P = sa.bindparam
_OPEN_CASES = (
    sa.select(Escalation.id, Escalation.category, Escalation.tier, Escalation.reason)
    .where(
        Escalation.visit_id == _P("visit_id"),
        Escalation.customer_id == _P("customer_id"),
        Escalation.status.in_(OPEN_LIKE),
    )
    .order_by(Escalation.id)
)
_CASES_SINCE = sa.select(sa.func.count(Escalation.id)).where(
    Escalation.customer_id == _P("customer_id"), Escalation.created_at > _P("since")
)
_RECENT_OUTCOMES = (
    sa.select(Escalation.outcome, Escalation.resolved_at)
    .where(Escalation.customer_id == _P("customer_id"), Escalation.resolved_at.is_not(None))
    .order_by(Escalation.resolved_at.desc())
    .limit(5)
)


def _typed_null(column: Any) -> Any:
    return sa.type_coerce(sa.null(), column.type)


# The open cases on the visit and the customer's last outcomes in one statement
# (one round trip and one statement's cost less per request): ``part`` 0 rows are
# open cases, ``part`` 1 rows outcomes; each part is ordered in Python.
_OPEN = _OPEN_CASES.order_by(None).subquery()
_OUTCOMES = _RECENT_OUTCOMES.subquery()
_OPEN_AND_OUTCOMES = sa.union_all(
    sa.select(
        sa.literal(0).label("part"),
        _OPEN.c.id,
        _OPEN.c.category,
        _OPEN.c.tier,
        _OPEN.c.reason,
        _typed_null(Escalation.outcome).label("outcome"),
        _typed_null(Escalation.resolved_at).label("resolved_at"),
    ),
    sa.select(
        sa.literal(1),
        _typed_null(Escalation.id),
        _typed_null(Escalation.category),
        _typed_null(Escalation.tier),
        _typed_null(Escalation.reason),
        _OUTCOMES.c.outcome,
        _OUTCOMES.c.resolved_at,
    ),
)
# One statement per category reads the subject with everything it needs, and the
# customer's count of cases in the last 365 days (the frequency rule's input).
_COUNT_SINCE = _CASES_SINCE.scalar_subquery().label("cases_since")
_ESTIMATES = (
    sa.select(
        Estimate.id,
        Estimate.total,
        Estimate.currency,
        Estimate.approved_at,
        sa.select(sa.func.count(Diagnosis.id))
        .where(Diagnosis.visit_id == _P("visit_id"), Diagnosis.safety_related)
        .scalar_subquery()
        .label("safety_diagnoses"),
        _COUNT_SINCE,
    )
    .where(Estimate.visit_id == _P("visit_id"))
    .order_by(Estimate.seq)
)
_WARRANTY = (
    sa.select(
        WarrantyDecision.currency,
        WarrantyDecision.claimed,
        WarrantyDecision.covered,
        WarrantyDecision.decision,
        WarrantyDecision.safety_related,
        Vehicle.delivery_date,
        Vehicle.odometer_km,
        WarrantyCoverage.years,
        WarrantyCoverage.distance_km,
        _COUNT_SINCE,
    )
    .select_from(WarrantyDecision)
    .outerjoin(Vehicle, Vehicle.id == _P("vehicle_id"))
    .outerjoin(WarrantyCoverage, WarrantyCoverage.vehicle_id == Vehicle.id)
    .where(WarrantyDecision.id == _P("subject_id"), WarrantyDecision.visit_id == _P("visit_id"))
)
_EARLIER = aliased(Diagnosis)
_DIAGNOSIS = sa.select(
    Diagnosis.seq,
    Diagnosis.codes,
    Diagnosis.safety_related,
    sa.select(_EARLIER.codes)
    .where(_EARLIER.visit_id == Diagnosis.visit_id, _EARLIER.seq < Diagnosis.seq)
    .order_by(_EARLIER.seq.desc())
    .limit(1)
    .scalar_subquery()
    .label("previous_codes"),
    sa.select(sa.func.max(sa.func.coalesce(Visit.closed_at, Visit.checked_in_at)))
    .where(
        Visit.vehicle_id == _P("vehicle_id"),
        Visit.id != _P("visit_id"),
        Visit.checked_in_at < _P("started"),
    )
    .scalar_subquery()
    .label("previous_visit"),
    _COUNT_SINCE,
).where(Diagnosis.id == _P("subject_id"), Diagnosis.visit_id == _P("visit_id"))
_OTHER_LOCAL_MANAGER = (
    sa.select(User.id)
    .where(
        User.center_id == _P("center_id"),
        User.role == Role.local_manager,
        User.active,
        User.id != _P("manager_id"),
    )
    .order_by(User.on_duty.desc(), User.id)
    .limit(1)
)
_OPEN_LOAD = (
    sa.select(Escalation.assignee_id, sa.func.count())
    .where(Escalation.assignee_id.in_(_P("ids", expanding=True)), Escalation.status.in_(ACTIVE))
    .group_by(Escalation.assignee_id)
)


def _history(
    conn: Connection,
    customer: User,
    now: datetime,
    count: int | None,
    recent: Sequence[tuple[Any, datetime]],
) -> dict[str, Any]:
    """The customer's recent outcomes (newest first), and the case count when the subject
    had none."""
    if count is None:
        count = conn.execute(
            _CASES_SINCE, {"customer_id": customer.id, "since": now - timedelta(days=365)}
        ).scalar()
    return {
        "cases_last_365_days": int(count or 0),
        "recent_outcomes": tuple(o.value for o, _ in recent if o is not None),
        "last_outcome_at": recent[0][1] if recent else None,
    }


def _within_coverage(rows: Sequence[sa.Row[Any]], on: date) -> bool:
    """Whether any of the vehicle's coverages (one per row, joined) still covers it."""
    for row in rows:
        if row.delivery_date is None or row.years is None:
            return False
        age_years = (on - row.delivery_date).days / 365.25
        if age_years <= row.years and row.odometer_km <= row.distance_km:
            return True
    return False


_SUBJECT = {
    Category.estimate: _ESTIMATES,
    Category.warranty: _WARRANTY,
    Category.diagnosis: _DIAGNOSIS,
}


def _subject_params(
    visit_id: int,
    vehicle_id: int | None,
    started: datetime | None,
    customer: User,
    subject_id: int,
    now: datetime,
) -> dict[str, Any]:
    return {
        "visit_id": visit_id,
        "subject_id": subject_id,
        "vehicle_id": vehicle_id,
        "customer_id": customer.id,
        "since": now - timedelta(days=365),
        "started": started,
        "now": now,
    }


def _subject_facts(
    rows: Sequence[Any], visit: Visit, category: Category, subject_id: int, now: datetime
) -> tuple[dict[str, Any] | None, int | None]:
    """The facts about the subject from its statement's rows (None when it is not one of
    this visit's), and the customer's case count of the last 365 days read with it (None:
    not read)."""
    started = visit.checked_in_at or now
    if category == Category.estimate:
        subject = next((e for e in rows if e.id == subject_id), None)
        if subject is None:
            return None, rows[0].cases_since if rows else None
        base = estimate_baseline(rows) or subject
        return {
            "currency": subject.currency,
            "estimate_total": str(subject.total),
            "first_approved_total": str(base.total),
            "safety_related": bool(subject.safety_diagnoses),
        }, subject.cases_since
    if category == Category.warranty:
        if not rows:
            return None, None
        decision = rows[0]
        return {
            "currency": decision.currency,
            "warranty_claimed": str(decision.claimed),
            "warranty_covered": str(decision.covered),
            "warranty_decision": decision.decision.value,
            "safety_related": decision.safety_related,
            "within_coverage": _within_coverage(rows, now.date()),
        }, decision.cases_since
    if not rows:
        return None, None
    diagnosis = rows[0]
    previous_codes = diagnosis.previous_codes
    contradicts = bool(
        previous_codes and diagnosis.codes and not set(diagnosis.codes) & set(previous_codes)
    )
    previous_visit = diagnosis.previous_visit
    return {
        "safety_related": diagnosis.safety_related,
        "drivable": visit.drivable,
        "days_since_previous_visit": (
            max((started - previous_visit).days, 0) if previous_visit is not None else None
        ),
        "contradicts_previous": contradicts,
    }, diagnosis.cases_since


@dataclass(frozen=True, slots=True)
class Manager:
    """A manager (or a local manager's deputy) as the create reads one: what the
    assignment, the decision's facts and the answer need, without an ORM object."""

    id: int
    role: Role
    name: str
    on_duty: bool
    active: bool
    deputy_id: int | None
    deputy: Manager | None  # read when deputy_id is set


@dataclass(frozen=True, slots=True)
class Staff:
    """The center's local and regional manager, and the open cases of each user read."""

    local: Manager | None
    regional: Manager | None
    open_cases: dict[int, int]

    def user(self, user_id: int) -> Manager | None:
        """The manager (or a local manager's deputy) with this id, if loaded here."""
        local, regional = self.local, self.regional
        for user in (local, local.deputy if local else None, regional):
            if user is not None and user.id == user_id:
                return user
        return None


# The managers of network.service.find_managers, each with its deputy and open cases,
# as plain rows (Core): only the columns the decision, the assignment and the answer
# read (ORM objects with a joined deputy cost more CPU than the statement).
def _manager_columns(user: Any) -> tuple[Any, ...]:
    """What a ``Manager`` is made of, of ``User`` or an alias of it."""
    return (user.id, user.role, user.name, user.on_duty, user.active, user.deputy_id)


_DEPUTY = aliased(User)
_MANAGER_COLUMNS = _manager_columns(User)
_STAFF = (
    sa.select(
        *_MANAGER_COLUMNS,
        # count(*), not count(id): PostgreSQL counts from the index on (assignee_id,
        # status) alone (an index-only scan); count(id) read every open case's row from
        # the table, 0.6 ms of the database's time a create at ~100 open cases a manager
        sa.select(sa.func.count())
        .select_from(Escalation)
        .where(Escalation.assignee_id == User.id, Escalation.status.in_(ACTIVE))
        .scalar_subquery()
        .label("open_cases"),
        *_manager_columns(_DEPUTY),
    )
    .outerjoin(_DEPUTY, _DEPUTY.id == User.deputy_id)
    .where(*MANAGERS_WHERE)
    .order_by(*MANAGERS_ORDER)
)


_MANAGER = sa.select(*_MANAGER_COLUMNS).where(User.id == _P("user_id"))


def _manager(row: Sequence[Any], deputy: Manager | None = None) -> Manager:
    """A ``Manager`` from ``_MANAGER_COLUMNS`` (the first six values of ``row``)."""
    return Manager(row[0], row[1], row[2], row[3], row[4], row[5], deputy)


def _staff(session: Session, rows: Sequence[Any]) -> Staff:
    """The center's managers and their open cases from ``_STAFF``'s rows (one statement
    more when no local manager is on duty and the deputy standing in has a deputy of
    their own)."""
    managers = [_manager(r, None if r[7] is None else _manager(r[7:])) for r in rows]
    local, regional = pick_managers(managers)
    if local is not None and local.deputy is None and local.deputy_id is not None:
        row = session.connection().execute(_MANAGER, {"user_id": local.deputy_id}).one()
        local = replace(local, deputy=_manager(row))
    return Staff(local, regional, {r[0]: int(r[6]) for r in rows})


def _capacity(session: Session, center: Center, staff: Staff) -> dict[str, Any]:
    local, regional = staff.local, staff.regional
    conn = session.connection()
    deputy_id = None
    if local is not None:
        if local.deputy is not None and local.deputy.active:
            deputy_id = local.deputy.id
        else:
            deputy_id = conn.execute(
                _OTHER_LOCAL_MANAGER, {"center_id": center.id, "manager_id": local.id}
            ).scalar()
    ids = [
        i
        for i in (local.id if local else None, deputy_id, regional.id if regional else None)
        if i is not None
    ]
    load = {i: staff.open_cases[i] for i in ids if i in staff.open_cases}
    unread = [i for i in ids if i not in load]  # a deputy from elsewhere
    if unread:
        load.update(dict.fromkeys(unread, 0))
        for assignee, count in conn.execute(_OPEN_LOAD, {"ids": unread}):
            if assignee is not None:
                load[assignee] = int(count)
    return {
        "local_manager_id": local.id if local else None,
        "local_open": load.get(local.id, 0) if local else 0,
        "deputy_id": deputy_id,
        "deputy_open": load.get(deputy_id, 0) if deputy_id else 0,
        "regional_manager_id": regional.id if regional else None,
        "regional_open": load.get(regional.id, 0) if regional else 0,
    }


# The customer's own visit with its center (a request's first read): only the columns
# the facts, the decision and the case read (any other loads on first use), and the
# policy's columns.
_VISIT_ATTRS = (
    "id",
    "center_id",
    "customer_id",
    "vehicle_id",
    "advisor_id",
    "status",
    "currency",
    "checked_in_at",
    "closed_at",
    "drivable",
    "created_at",
)
_CENTER_ATTRS = (
    "id",
    "region_id",
    "program",
    "time_zone",
    "country",
    "business_hours",
    "closed_dates",
)
_OWN_VISIT = (Visit.id == _P("visit_id"), Visit.customer_id == _P("customer_id"))
_CUSTOMER_VISIT = (
    sa.select(Visit, *policy_columns(Visit.center_id))
    .options(
        load_only(*(getattr(Visit, a) for a in _VISIT_ATTRS)),
        joinedload(Visit.center).load_only(*(getattr(Center, a) for a in _CENTER_ATTRS)),
    )
    .where(*_OWN_VISIT)
)
_CUSTOMER_VISIT_LOCKED = _CUSTOMER_VISIT.with_for_update(of=Visit)


def _after_visit(statement: Any) -> Any:
    """``statement`` with the visit's own values (its center, region, vehicle and start)
    read from the visit by ``visit_id``: sent in one pipeline with the visit's read, it
    needs nothing that read returns."""
    visit = aliased(Visit)
    of_visit = visit.id == _P("visit_id")
    values = {
        "center_id": sa.select(visit.center_id).where(of_visit).scalar_subquery(),
        "region_id": sa.select(Center.region_id)
        .join(visit, visit.center_id == Center.id)
        .where(of_visit)
        .scalar_subquery(),
        "vehicle_id": sa.select(visit.vehicle_id).where(of_visit).scalar_subquery(),
        "started": sa.select(
            sa.func.coalesce(visit.checked_in_at, _P("now", type_=Visit.checked_in_at.type))
        )
        .where(of_visit)
        .scalar_subquery(),
    }

    def replace_value(element: Any) -> Any:
        if isinstance(element, BindParameter) and element.key in values:
            return values[element.key]
        return None

    return replacement_traverse(statement, {}, replace_value)  # type: ignore[call-overload]


_VISIT_ROW = (
    sa.select(
        *(getattr(Visit, a) for a in _VISIT_ATTRS),
        *(getattr(Center, a) for a in _CENTER_ATTRS),
        *policy_columns(Visit.center_id),
    )
    .join(Center, Center.id == Visit.center_id)
    .where(*_OWN_VISIT)
)
# PostgreSQL: the visit's read and the three after it in one round trip (direkte.direct).
_DIRECT_VISIT = {
    False: direct.Select(_VISIT_ROW),
    True: direct.Select(_VISIT_ROW.with_for_update(of=Visit)),
}
_DIRECT_STAFF = direct.Select(_after_visit(_STAFF))
_DIRECT_SUBJECT = {category: direct.Select(_after_visit(s)) for category, s in _SUBJECT.items()}
_DIRECT_OPEN_AND_OUTCOMES = direct.Select(_OPEN_AND_OUTCOMES)


@dataclass(frozen=True, slots=True)
class RequestRead:
    """What a customer's request reads before the guardrails decide: the visit with its
    center, the policy's columns (``merged_policy``'s arguments), the center's managers,
    the subject's rows and the open cases' and recent outcomes' rows."""

    visit: Visit
    policy: tuple[Any, Any, Any]
    staff: Staff
    subject_rows: Sequence[Any]
    open_rows: Sequence[Any]


def read_request(
    session: Session,
    *,
    visit_id: int,
    customer: User,
    category: Category,
    subject_id: int,
    now: datetime,
    lock: bool,
) -> RequestRead | None:
    """Read a request's visit (the customer's own, locked if ``lock``: concurrent
    requests on one visit then decide one after the other) and what its decision reads;
    None when the customer has no such visit. PostgreSQL reads all in one round trip,
    each statement after the lock with its own snapshot; SQLite one statement each."""
    params = _subject_params(visit_id, None, None, customer, subject_id, now)
    if direct.supported(session):
        visits, staff, subject, open_rows = direct.pipeline(
            session,
            [
                (_DIRECT_VISIT[lock], params),
                (_DIRECT_STAFF, params),
                (_DIRECT_SUBJECT[category], params),
                (_DIRECT_OPEN_AND_OUTCOMES, params),
            ],
            # a create commits, a preview (unlocked) rolls back: prepared for a create
            prepare=True if lock else None,
        )
        if not visits:
            return None
        row, width = visits[0], len(_VISIT_ATTRS)
        visit = direct.attach(session, Visit, _VISIT_ATTRS, row[:width])
        center = direct.attach(
            session, Center, _CENTER_ATTRS, row[width : width + len(_CENTER_ATTRS)]
        )
        set_committed_value(visit, "center", center)
        policy = (row[-3], row[-2], row[-1])
        return RequestRead(visit, policy, _staff(session, staff), subject, open_rows)
    found = session.execute(_CUSTOMER_VISIT_LOCKED if lock else _CUSTOMER_VISIT, params).first()
    if found is None:
        return None
    visit, center = found[0], found[0].center
    conn = session.connection()
    managers = conn.execute(_STAFF, {"center_id": center.id, "region_id": center.region_id}).all()
    params = _subject_params(
        visit.id, visit.vehicle_id, visit.checked_in_at or now, customer, subject_id, now
    )
    return RequestRead(
        visit,
        (found.policy_region, found.policy_version, found.policy_text),
        _staff(session, managers),
        conn.execute(_SUBJECT[category], params).all(),
        conn.execute(_OPEN_AND_OUTCOMES, params).all(),
    )


def gather_facts(
    session: Session,
    read: RequestRead,
    *,
    customer: User,
    category: Category,
    subject_id: int,
    reason: str,
    content: dict[str, Any],
    now: datetime,
) -> Facts:
    """The facts for a new request: subject, history, similar open cases, load, content."""
    visit, staff = read.visit, read.staff
    center = visit.center
    subject, count = _subject_facts(read.subject_rows, visit, category, subject_id, now)
    rows = read.open_rows
    open_cases = sorted((r for r in rows if r.part == 0), key=lambda r: r.id)
    recent = sorted(
        ((r.outcome, r.resolved_at) for r in rows if r.part == 1), key=lambda p: p[1], reverse=True
    )
    same = next((c for c in open_cases if c.category == category), None)
    scored = sorted(((similarity(reason, c.reason), c) for c in open_cases), key=lambda p: -p[0])
    best = scored[0] if scored else None
    return Facts(
        kind="create",
        category=category.value,
        program=center.program.value,
        visit_status=visit.status.value,
        visit_checked_in_at=visit.checked_in_at,
        visit_closed_at=visit.closed_at,
        subject_id=subject_id,
        subject_belongs=subject is not None,
        open_case_id=same.id if same else None,
        open_case_tier=same.tier if same else None,
        similar_case_id=best[1].id if best else None,
        similar_case_tier=best[1].tier if best else None,
        similarity=best[0] if best else 0.0,
        **_history(session.connection(), customer, now, count, recent),
        **(subject or {}),
        **content,
        **_capacity(session, center, staff),
    )


def money_in_dispute(session: Session, case: Escalation) -> Decimal:
    """What the customer pays for the case's subject, in the case's currency: the
    estimate's total, the part of a warranty claim not covered, or for a diagnosis the
    visit's latest estimate. Zero when no such amount is known in that currency (a
    diagnosis before any estimate): nothing is then in dispute."""
    row: tuple[Any, Any] | sa.Row[Any] | None
    if case.category == Category.estimate:
        row = session.execute(
            sa.select(Estimate.total, Estimate.currency).where(Estimate.id == case.subject_id)
        ).first()
    elif case.category == Category.warranty:
        claim = session.execute(
            sa.select(
                WarrantyDecision.claimed, WarrantyDecision.covered, WarrantyDecision.currency
            ).where(WarrantyDecision.id == case.subject_id)
        ).first()
        # Subtracted here: on SQLite the amounts are text, and SQL arithmetic on them
        # would be floating point.
        row = None if claim is None else (claim.claimed - claim.covered, claim.currency)
    else:
        row = session.execute(
            sa.select(Estimate.total, Estimate.currency)
            .where(Estimate.visit_id == case.visit_id)
            .order_by(Estimate.seq.desc())
            .limit(1)
        ).first()
    if row is None or row[0] is None or row[1] != case.currency:
        return Decimal(0)
    return max(Decimal(row[0]), Decimal(0))


_RESOLVERS = sa.select(EscalationEvent.actor_id).where(
    EscalationEvent.escalation_id == sa.bindparam("escalation_id"),
    EscalationEvent.kind == "status.resolved",
    EscalationEvent.actor_kind == "user",
)


def earlier_resolvers(session: Session, case: Escalation) -> set[int]:
    """The users who gave the case an outcome before (for the appeal's own-outcome rule)."""
    ids = session.scalars(_RESOLVERS, {"escalation_id": case.id})
    return {int(i) for i in ids if i is not None}
